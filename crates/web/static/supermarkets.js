// Tripwright supermarkets page: draws the map of the server's answer (a blue marker at the
// location, the search radius, a green marker per grocery shop with its name, distance and
// opening hours), keeps the radius read-out in step with the slider and suggests cities as the
// user types. The list below the map is server-rendered; clicking a shop opens its popup.
// Offline basemap as on the plan page: world-atlas country outlines, no tiles. Strict CSP:
// no inline scripts or style attributes, user text only through textContent.
(function () {
  'use strict';

  var COUNTRIES = '/static/vendor/world-atlas/countries-110m.json';

  function $(sel, root) {
    return (root || document).querySelector(sel);
  }

  function $$(sel, root) {
    return Array.prototype.slice.call((root || document).querySelectorAll(sel));
  }

  function el(tag, className, text) {
    var e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }

  function validPoint(p) {
    return p && typeof p.lat === 'number' && typeof p.lon === 'number' && isFinite(p.lat) && isFinite(p.lon) &&
      Math.abs(p.lat) <= 90 && Math.abs(p.lon) <= 180;
  }

  function km(d) {
    return (d < 10 ? d.toFixed(1) : d.toFixed(0)) + ' km';
  }

  /** The offline basemap: world-atlas country shapes as a GeoJSON layer below the markers. */
  function drawCountries(map) {
    if (!window.topojson) return;
    fetch(COUNTRIES, { credentials: 'same-origin' }).then(function (r) {
      if (!r.ok) throw new Error('countries ' + r.status);
      return r.json();
    }).then(function (world) {
      var geo = window.topojson.feature(world, world.objects.countries);
      window.L.geoJSON(geo, {
        pane: 'basemap',
        interactive: false,
        style: { color: '#9aa5b1', weight: 0.7, fillColor: '#f3efe6', fillOpacity: 1 }
      }).addTo(map);
      map.attributionControl.addAttribution('Borders: Natural Earth');
    }).catch(function () { /* the markers still show on the plain background */ });
  }

  function shopPopup(s) {
    var box = el('div', 'map-popup shop-popup');
    box.appendChild(el('strong', 'popup-name', s.name || 'Shop'));
    box.appendChild(el('div', 'popup-meta', km(Number(s.distance_km) || 0) + (s.kind ? ' · ' + s.kind : '')));
    if (s.address) box.appendChild(el('div', 'popup-address', s.address));
    box.appendChild(el('div', 'popup-hours', s.opening_hours ? 'Open: ' + s.opening_hours : 'Opening hours not mapped'));
    return box;
  }

  function drawMap(mapEl) {
    var L = window.L;
    var data;
    try {
      data = JSON.parse(mapEl.getAttribute('data-map') || '');
    } catch (_) {
      return;
    }
    if (!data || !validPoint(data.center)) return;
    if (!L) {
      mapEl.classList.add('map-unavailable');
      mapEl.textContent = 'The map could not be loaded; the shops are listed below.';
      return;
    }
    var map = L.map(mapEl, { scrollWheelZoom: false, worldCopyJump: true });
    map.createPane('basemap');
    mapEl.classList.add('offline-basemap');
    drawCountries(map);
    if (data.attribution) map.attributionControl.addAttribution(escapeHtml(data.attribution));

    var c = data.center;
    var radiusM = Math.max(0, Number(data.radius_km) || 0) * 1000;
    // The view first: Leaflet cannot add a vector layer to a map without a centre and zoom.
    if (radiusM > 0) map.fitBounds(L.latLng(c.lat, c.lon).toBounds(radiusM * 2), { padding: [12, 12] });
    else map.setView([c.lat, c.lon], 14);
    L.circle([c.lat, c.lon], {
      radius: radiusM,
      color: '#1d4ed8',
      weight: 1,
      fillOpacity: 0.04,
      interactive: false,
      className: 'search-radius'
    }).addTo(map);

    var markers = [];
    (Array.isArray(data.places) ? data.places : []).forEach(function (s) {
      if (!validPoint(s)) return;
      var m = L.circleMarker([s.lat, s.lon], {
        radius: 7,
        color: '#ffffff',
        weight: 2,
        fillColor: '#17803d',
        fillOpacity: 1,
        className: 'marker-grocery'
      });
      m.bindPopup(shopPopup(s));
      m.bindTooltip(String(s.name || ''), { direction: 'top', offset: [0, -7] });
      m.addTo(map);
      markers.push(m);
    });

    var here = L.circleMarker([c.lat, c.lon], {
      radius: 9,
      color: '#ffffff',
      weight: 3,
      fillColor: '#1d4ed8',
      fillOpacity: 1,
      className: 'marker-location'
    }).addTo(map);
    var hp = el('div', 'map-popup');
    hp.appendChild(el('strong', null, 'You are searching around'));
    hp.appendChild(document.createTextNode(' ' + String(c.label || '')));
    here.bindPopup(hp);
    here.bindTooltip(String(c.label || ''), { direction: 'top', offset: [0, -9] });

    mapEl.setAttribute('data-markers', String(markers.length));

    // The list: a click (or Enter) on a shop opens its popup on the map.
    $$('#supermarket-list li.shop').forEach(function (li) {
      var i = Number(li.getAttribute('data-index'));
      var m = markers[i];
      if (!m) return;
      li.tabIndex = 0;
      li.classList.add('clickable');
      var open = function () {
        map.panTo(m.getLatLng());
        m.openPopup();
      };
      li.addEventListener('click', open);
      li.addEventListener('keydown', function (ev) {
        if (ev.key === 'Enter' || ev.key === ' ') {
          ev.preventDefault();
          open();
        }
      });
    });
  }

  function initRadius() {
    var r = $('#radius');
    var out = $('#radius-value');
    if (!r || !out) return;
    var showR = function () { out.textContent = r.value + ' km'; };
    r.addEventListener('input', showR);
    showR();
  }

  /** City suggestions from /api/destinations as the user types (debounced). */
  function initSuggestions() {
    var input = $('#near');
    var list = $('#near-suggestions');
    if (!input || !list || !window.fetch) return;
    var timer = null;
    var last = '';
    input.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var q = input.value.trim();
        if (q === last) return;
        last = q;
        if (q.length < 2 || /^[-+\d.,;\s]+$/.test(q)) {
          while (list.firstChild) list.removeChild(list.firstChild);
          return;
        }
        fetch('/api/destinations?q=' + encodeURIComponent(q), { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
          .then(function (res) { return res.ok ? res.json() : []; })
          .then(function (items) {
            if (!Array.isArray(items) || input.value.trim() !== q) return;
            while (list.firstChild) list.removeChild(list.firstChild);
            items.slice(0, 10).forEach(function (s) {
              var o = document.createElement('option');
              o.value = (s && (s.label || s.name)) || '';
              list.appendChild(o);
            });
          })
          .catch(function () { /* suggestions are optional */ });
      }, 150);
    });
  }

  function init() {
    initRadius();
    initSuggestions();
    var mapEl = $('#supermarkets-map');
    if (mapEl) drawMap(mapEl);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();

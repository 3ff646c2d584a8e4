// The maps, drawn with Leaflet (the layout loads it, with topojson-client, on pages with a
// map): the plan's map (the hotel, each day's stops in the day's colour, the day's route) and
// the supermarkets map (the place searched around, the radius, the shops). The basemap is a
// tile layer when the server has a tile URL, else the world-atlas country outlines, offline.
// Popups are built with textContent; the one string Leaflet takes as HTML (an attribution)
// is escaped.
import { el, escapeHtml, km } from './site.mjs';

const COUNTRIES = '/static/vendor/world-atlas/countries-110m.json';
const PALETTE = ['#e6194b', '#3cb44b', '#4363d8', '#f58231', '#911eb4', '#42d4f4', '#f032e6',
  '#9a6324', '#469990', '#800000', '#808000', '#000075', '#e6beff', '#a9a9a9'];

/** Whether `p` has a latitude and longitude on the globe. */
export function validPoint(p) {
  return !!p && Number.isFinite(p.lat) && Number.isFinite(p.lon) && Math.abs(p.lat) <= 90 && Math.abs(p.lon) <= 180;
}

/** The JSON in an element's attribute, or null. */
function dataOf(element, attribute) {
  try {
    const data = JSON.parse(element.getAttribute(attribute) || '');
    return data && typeof data === 'object' ? data : null;
  } catch {
    return null;
  }
}

/** The world-atlas country outlines below everything else: the offline basemap. */
async function drawCountries(map) {
  try {
    const res = await fetch(COUNTRIES, { credentials: 'same-origin' });
    if (!res.ok || !window.topojson) return;
    const world = await res.json();
    window.L.geoJSON(window.topojson.feature(world, world.objects.countries), {
      pane: 'basemap',
      interactive: false,
      style: { color: '#9aa5b1', weight: 0.7, fillColor: '#f3efe6', fillOpacity: 1 },
    }).addTo(map);
    map.attributionControl.addAttribution('Borders: Natural Earth');
  } catch {
    // The markers and routes still show on the plain background.
  }
}

/** A Leaflet map in `element` with its basemap: tiles from `tileUrl`, else the outlines. */
function baseMap(element, tileUrl, attribution) {
  const L = window.L;
  element.replaceChildren();
  const map = L.map(element, { scrollWheelZoom: false, worldCopyJump: true });
  map.createPane('basemap'); // below the overlay pane (z-index in style.css)
  if (typeof tileUrl === 'string' && /^https?:\/\//.test(tileUrl)) {
    L.tileLayer(tileUrl, { maxZoom: 19, attribution: escapeHtml(attribution || '') }).addTo(map);
    return { map, offline: false };
  }
  element.classList.add('offline-basemap');
  drawCountries(map);
  return { map, offline: true };
}

function unavailable(element, text) {
  element.classList.add('map-unavailable');
  element.textContent = text;
}

function stopPopup(s, day, order) {
  const box = el('div', 'map-popup');
  const time = (s.start || '') + (s.end ? `–${s.end}` : '');
  if (time) box.append(el('span', 'popup-time', time), ' ');
  box.append(el('strong', 'popup-name', s.name || 'Stop'));
  box.append(el('div', 'popup-meta', `Day ${day}, stop ${order}${s.kind ? ` · ${s.kind}` : ''}`));
  return box;
}

/** The plan's map, drawn from `#map[data-plan]` and redrawn when new data arrives. */
export class PlanMap {
  constructor(element) {
    this.element = element;
    this.map = null;
    this.overlay = null;
    this.legend = null;
    this.attribution = null;
    this.offline = false;
    const data = element && dataOf(element, 'data-plan');
    if (data) this.update(data);
  }

  /** Draws `data` (`{hotel, days, tile_url, attribution}`) and keeps it in `data-plan`. */
  update(data) {
    const element = this.element;
    if (!element || !data) return;
    element.setAttribute('data-plan', JSON.stringify(data));
    const days = Array.isArray(data.days) ? data.days : [];
    if (!validPoint(data.hotel) && !days.some((d) => (d.stops || []).some(validPoint))) return;
    if (!window.L) {
      unavailable(element, 'The map could not be loaded.');
      return;
    }
    if (!this.map) {
      element.classList.remove('map-placeholder');
      ({ map: this.map, offline: this.offline } = baseMap(element, data.tile_url, data.attribution));
      this.overlay = window.L.featureGroup().addTo(this.map);
    }
    this.draw(data, days);
  }

  draw(data, days) {
    const L = window.L;
    const map = this.map;
    this.overlay.clearLayers();
    if (this.attribution) map.attributionControl.removeAttribution(this.attribution);
    this.attribution = data.attribution && this.offline ? escapeHtml(data.attribution) : null;
    if (this.attribution) map.attributionControl.addAttribution(this.attribution);

    const bounds = [];
    const markers = [];
    days.forEach((day, i) => {
      const n = Number(day.day) || i + 1;
      const color = typeof day.color === 'string' && day.color ? day.color : PALETTE[(n - 1) % PALETTE.length];
      const points = [];
      (day.stops || []).forEach((s, k) => {
        if (!validPoint(s)) return;
        const ll = [s.lat, s.lon];
        points.push(ll);
        bounds.push(ll);
        const m = L.circleMarker(ll, {
          radius: 8, color: '#ffffff', weight: 2, fillColor: color, fillOpacity: 1, className: `marker-stop day-${n}`,
        });
        m.bindPopup(stopPopup(s, n, k + 1));
        m.bindTooltip(`Day ${n} · ${k + 1}. ${String(s.name || '')}`, { direction: 'top', offset: [0, -8] });
        markers.push(m);
      });
      if (points.length) {
        this.overlay.addLayer(L.polyline(points, { color, weight: 4, opacity: 0.75, className: `route day-${n}` }));
      }
    });
    // Markers after the routes, so they are drawn on top.
    markers.forEach((m) => this.overlay.addLayer(m));

    if (validPoint(data.hotel)) {
      const h = data.hotel;
      const marker = L.marker([h.lat, h.lon], {
        icon: L.divIcon({ className: 'marker-hotel', iconSize: [28, 28], iconAnchor: [14, 14], popupAnchor: [0, -14], html: '' }),
        title: `Hotel: ${String(h.name || '')}`,
        alt: 'Hotel',
        keyboard: true,
        zIndexOffset: 1000,
      });
      const popup = el('div', 'map-popup');
      popup.append(el('strong', null, 'Hotel'), ` ${String(h.name || '')}`);
      marker.bindPopup(popup);
      this.overlay.addLayer(marker);
      bounds.push([h.lat, h.lon]);
    }

    this.drawLegend(days);
    if (bounds.length === 1) map.setView(bounds[0], 14);
    else if (bounds.length > 1) map.fitBounds(L.latLngBounds(bounds), { padding: [28, 28], maxZoom: 16 });
    else map.setView([20, 0], 2);
  }

  drawLegend(days) {
    this.legend?.remove();
    this.legend = null;
    const shown = days.filter((d) => (d.stops || []).some(validPoint));
    if (!shown.length) return;
    const legend = window.L.control({ position: 'bottomleft' });
    legend.onAdd = () => {
      const box = el('div', 'map-legend');
      const ul = el('ul');
      shown.forEach((d, i) => {
        const n = Number(d.day) || i + 1;
        const svgNs = 'http://www.w3.org/2000/svg';
        const svg = document.createElementNS(svgNs, 'svg');
        for (const [k, v] of [['width', '12'], ['height', '12'], ['viewBox', '0 0 12 12'], ['aria-hidden', 'true']]) svg.setAttribute(k, v);
        const c = document.createElementNS(svgNs, 'circle');
        for (const [k, v] of [['cx', '6'], ['cy', '6'], ['r', '5']]) c.setAttribute(k, v);
        c.setAttribute('fill', typeof d.color === 'string' && d.color ? d.color : PALETTE[(n - 1) % PALETTE.length]);
        svg.append(c);
        const li = el('li');
        li.append(svg, ` Day ${n}`);
        ul.append(li);
      });
      box.append(ul);
      return box;
    };
    legend.addTo(this.map);
    this.legend = legend;
  }
}

function shopPopup(s) {
  const box = el('div', 'map-popup shop-popup');
  box.append(el('strong', 'popup-name', s.name || 'Shop'));
  box.append(el('div', 'popup-meta', km(Number(s.distance_km) || 0) + (s.kind ? ` · ${s.kind}` : '')));
  if (s.address) box.append(el('div', 'popup-address', s.address));
  box.append(el('div', 'popup-hours', s.opening_hours ? `Open: ${s.opening_hours}` : 'Opening hours not mapped'));
  return box;
}

/**
 * The supermarkets map from `element[data-map]` (`{center, radius_km, places, attribution}`):
 * a blue marker where the search is centred, the radius, a green marker per shop. Returns
 * the shops' markers in the order of `places` (empty when there is no map).
 */
export function drawShopMap(element) {
  const data = dataOf(element, 'data-map');
  if (!data || !validPoint(data.center)) return { map: null, markers: [] };
  if (!window.L) {
    unavailable(element, 'The map could not be loaded; the shops are listed below.');
    return { map: null, markers: [] };
  }
  const L = window.L;
  const { map } = baseMap(element, null, null);
  if (data.attribution) map.attributionControl.addAttribution(escapeHtml(data.attribution));

  const c = data.center;
  const radius = Math.max(0, Number(data.radius_km) || 0) * 1000;
  // The view first: Leaflet cannot add a vector layer to a map without a centre and zoom.
  if (radius > 0) map.fitBounds(L.latLng(c.lat, c.lon).toBounds(radius * 2), { padding: [12, 12] });
  else map.setView([c.lat, c.lon], 14);
  L.circle([c.lat, c.lon], {
    radius, color: '#1d4ed8', weight: 1, fillOpacity: 0.04, interactive: false, className: 'search-radius',
  }).addTo(map);

  const markers = (Array.isArray(data.places) ? data.places : []).map((s) => {
    if (!validPoint(s)) return null;
    const m = L.circleMarker([s.lat, s.lon], {
      radius: 7, color: '#ffffff', weight: 2, fillColor: '#17803d', fillOpacity: 1, className: 'marker-grocery',
    });
    m.bindPopup(shopPopup(s));
    m.bindTooltip(String(s.name || ''), { direction: 'top', offset: [0, -7] });
    return m.addTo(map);
  });

  const here = L.circleMarker([c.lat, c.lon], {
    radius: 9, color: '#ffffff', weight: 3, fillColor: '#1d4ed8', fillOpacity: 1, className: 'marker-location',
  }).addTo(map);
  const popup = el('div', 'map-popup');
  popup.append(el('strong', null, 'You are searching around'), ` ${String(c.label || '')}`);
  here.bindPopup(popup);
  here.bindTooltip(String(c.label || ''), { direction: 'top', offset: [0, -9] });
  element.setAttribute('data-markers', String(markers.filter(Boolean).length));
  return { map, markers };
}

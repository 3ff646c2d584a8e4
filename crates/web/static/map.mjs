// The maps, drawn with Leaflet (the layout loads it, with topojson-client, on pages with a
// map): the plan's map (the hotel, each day's stops as numbered pins in the day's colour, the
// day's walk along the streets) and the supermarkets map (the place searched around, the
// radius, the shops). The basemap is a tile layer when the server has an online tile URL;
// else, offline, the server's own street tiles (drawn from the imported regions' OpenStreetMap
// data, from zoom 12) over the world-atlas country outlines. Popups and pins are built with
// textContent; the one string Leaflet takes as HTML (an attribution) is escaped.
import { el, escapeHtml, km } from './site.mjs';

const COUNTRIES = '/static/vendor/world-atlas/countries-110m.json';
const STREETS = '/tiles/{z}/{x}/{y}.png';
// The server sends each day's colour; this is the same palette (tripwright_domain::DAY_COLOURS)
// for data without one.
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2',
  '#17becf', '#bcbd22', '#393b79', '#637939', '#8c6d31', '#843c39', '#7f7f7f'];

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
  // The street map where the server has data (transparent tiles elsewhere), in a pane above
  // the outlines (the page adds the OpenStreetMap attribution with its data).
  map.createPane('streets');
  L.tileLayer(STREETS, { minZoom: 12, maxZoom: 19, pane: 'streets', className: 'street-tiles' }).addTo(map);
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

/** A list of [lat, lon] pairs from the server's `route`, or null. */
function routeOf(route) {
  if (!Array.isArray(route) || route.length < 2) return null;
  const points = route.filter((p) => Array.isArray(p) && validPoint({ lat: p[0], lon: p[1] }));
  return points.length >= 2 ? points : null;
}

/** A round pin in `color` showing `number`, as the itinerary numbers its stops. */
function numberedPin(number, color, day) {
  const pin = el('span', 'pin-number', String(number));
  pin.style.background = color;
  return window.L.divIcon({ className: `marker-pin marker-stop day-${day}`, html: pin, iconSize: [24, 24], iconAnchor: [12, 12], popupAnchor: [0, -12] });
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
    if (!validPoint(data.hotel) && !days.some((d) => (d.stops || []).some(validPoint))) {
      // Nothing to show (a plan made again from the start): what was drawn goes.
      this.overlay?.clearLayers();
      this.drawLegend([], false);
      return;
    }
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
    let straight = false;
    const home = validPoint(data.hotel) ? [data.hotel.lat, data.hotel.lon] : null;
    days.forEach((day, i) => {
      const n = Number(day.day) || i + 1;
      const color = typeof day.color === 'string' && day.color ? day.color : PALETTE[(n - 1) % PALETTE.length];
      // The day's walk, leg by leg: along the streets where the server routed it, else a
      // dashed straight line (no street data there).
      const leg = (from, to, route) => {
        const path = routeOf(route);
        if (!path && !(from && to)) return;
        if (!path) straight = true;
        this.overlay.addLayer(L.polyline(path || [from, to], {
          color, weight: 4, opacity: 0.8, dashArray: path ? null : '6 6', className: `route day-${n}`, interactive: false,
        }));
      };
      let previous = home;
      (day.stops || []).forEach((s, k) => {
        if (!validPoint(s)) return;
        const ll = [s.lat, s.lon];
        leg(previous, ll, s.route);
        previous = ll;
        bounds.push(ll);
        const m = L.marker(ll, {
          icon: numberedPin(k + 1, color, n), title: `Day ${n} · ${k + 1}. ${String(s.name || '')}`, alt: `Day ${n}, stop ${k + 1}`, keyboard: true,
        });
        m.bindPopup(stopPopup(s, n, k + 1));
        markers.push(m);
      });
      if (previous && previous !== home) leg(previous, home, day.route_back);
    });
    // Pins after the routes, so they are drawn on top.
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

    this.drawLegend(days, straight);
    if (bounds.length === 1) map.setView(bounds[0], 14);
    else if (bounds.length > 1) map.fitBounds(L.latLngBounds(bounds), { padding: [28, 28], maxZoom: 16 });
    else map.setView([20, 0], 2);
  }

  /** The legend below the map (never over it): each day's colour, the hotel, and a word on
   * straight lines when some walk had no street data. */
  drawLegend(days, straight) {
    this.legend?.remove();
    this.legend = null;
    const shown = days.filter((d) => (d.stops || []).some(validPoint));
    if (!shown.length) return;
    const box = el('div', 'map-legend');
    const ul = el('ul');
    shown.forEach((d, i) => {
      const n = Number(d.day) || i + 1;
      const swatch = el('span', 'legend-swatch');
      swatch.style.background = typeof d.color === 'string' && d.color ? d.color : PALETTE[(n - 1) % PALETTE.length];
      const li = el('li');
      li.append(swatch, ` Day ${n}`);
      ul.append(li);
    });
    const hotel = el('li');
    hotel.append(el('span', 'legend-swatch legend-hotel'), ' Hotel');
    ul.append(hotel);
    box.append(ul);
    if (straight) box.append(el('p', 'legend-note', 'Dashed lines are straight: there is no street data for those walks.'));
    this.element.after(box);
    this.legend = box;
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

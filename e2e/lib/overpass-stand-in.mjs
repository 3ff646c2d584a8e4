// An Overpass API stand-in for the browser tests (the real one is not reachable from CI): it
// speaks the protocol the server uses — POST /api/interpreter with a form field `data` in
// Overpass QL, answered with `{"version":0.6,"elements":[…]}` — from a small fixture of real
// places of central Rome (names and tags as OpenStreetMap has them, positions to ~100 m).
// A query `around` a centre within 20 km of Rome gets the fixture, any other an empty answer
// (the shop searches of Helsinki, for instance). A street-map query (`way["highway"]` in a
// `[bbox:…]` over central Rome) gets a small network of real central-Rome streets
// joining those places (`out body` ways with their node ids, then the nodes), positions
// approximate. The places answer comes after a pause, so the
// page's "Fetching places…" notice can be seen. Every request is logged to the file given as
// the first argument (method, User-Agent, query), one JSON object per line; the port it
// listens on (127.0.0.1 only) is printed on stdout.
import { appendFileSync } from 'node:fs';
import http from 'node:http';

const log = process.argv[2];
const PAUSE_MS = 1500;
const ROME = { lat: 41.8919, lon: 12.5113 };

const node = (id, lat, lon, tags) => ({ type: 'node', id, lat, lon, tags });
const way = (id, lat, lon, tags) => ({ type: 'way', id, center: { lat, lon }, tags });
const PLACES = [
  node(101, 41.8995, 12.4934, { tourism: 'hotel', name: 'Hotel Artemide', stars: '4', 'addr:street': 'Via Nazionale' }),
  node(102, 41.899, 12.4767, { tourism: 'hotel', name: 'Albergo del Senato', stars: '4' }),
  node(103, 41.9009, 12.4725, { tourism: 'hotel', name: 'Hotel Raphael', stars: '5' }),
  node(104, 41.8968, 12.5016, { tourism: 'hostel', name: 'The Beehive' }),
  way(201, 41.8902, 12.4922, { historic: 'monument', tourism: 'attraction', name: 'Colosseo', 'name:en': 'Colosseum', wikipedia: 'it:Colosseo' }),
  way(202, 41.8986, 12.4769, { historic: 'building', tourism: 'attraction', name: 'Pantheon', wikipedia: 'it:Pantheon (Roma)' }),
  way(203, 41.8929, 12.4825, { tourism: 'museum', name: 'Musei Capitolini', 'name:en': 'Capitoline Museums', opening_hours: 'Tu-Su 09:30-19:30' }),
  way(204, 41.9142, 12.4922, { tourism: 'museum', name: 'Galleria Borghese', opening_hours: 'Tu-Su 09:00-19:00' }),
  way(205, 41.9031, 12.4663, { historic: 'castle', tourism: 'museum', name: "Castel Sant'Angelo" }),
  node(206, 41.9009, 12.4833, { tourism: 'attraction', name: 'Fontana di Trevi', 'name:en': 'Trevi Fountain' }),
  way(207, 41.8992, 12.4731, { tourism: 'attraction', name: 'Piazza Navona' }),
  way(208, 41.9006, 12.4875, { tourism: 'museum', name: 'Galleria Colonna' }),
  way(209, 41.8974, 12.4989, { tourism: 'museum', name: 'Palazzo Massimo alle Terme' }),
  node(210, 41.9059, 12.4823, { tourism: 'attraction', name: 'Scalinata di Trinità dei Monti', 'name:en': 'Spanish Steps' }),
  node(301, 41.8937, 12.4734, { amenity: 'restaurant', name: 'Roscioli', cuisine: 'italian' }),
  node(302, 41.8989, 12.4762, { amenity: 'restaurant', name: 'Armando al Pantheon', cuisine: 'italian' }),
  node(303, 41.8964, 12.4721, { amenity: 'restaurant', name: 'Da Francesco', cuisine: 'pizza' }),
  node(304, 41.9002, 12.4862, { amenity: 'restaurant', name: 'Il Chianti', cuisine: 'italian' }),
  node(401, 41.8981, 12.4751, { amenity: 'cafe', name: "Sant'Eustachio Il Caffè" }),
  node(402, 41.8995, 12.4776, { amenity: 'cafe', name: "Tazza d'Oro" }),
  node(501, 41.8961, 12.4983, { shop: 'supermarket', name: 'Conad' }),
];

// Junctions shared by several streets: [lat, lon].
const J = {
  venezia: [41.8961, 12.4823],
  popolo: [41.9107, 12.4763],
  argentina: [41.8955, 12.4768],
  colosseo: [41.8902, 12.4922],
  magnanapoli: [41.8985, 12.4858],
  repubblica: [41.9025, 12.4955],
  termini: [41.9005, 12.5],
  barberini: [41.9038, 12.4886],
  tritone: [41.902, 12.4805],
  condotti: [41.905, 12.4795],
  muratte: [41.9, 12.4812],
  seminario: [41.899, 12.481],
  cavour: [41.8935, 12.4905],
};
// Streets: name, highway class, the points they run through (junction names or [lat, lon]).
const STREETS = [
  ['Via del Corso', 'primary', ['venezia', 'seminario', 'muratte', 'tritone', 'condotti', 'popolo']],
  ['Via dei Fori Imperiali', 'pedestrian', ['venezia', 'cavour', 'colosseo']],
  ['Via del Plebiscito', 'secondary', ['venezia', 'argentina']],
  ['Corso Vittorio Emanuele II', 'secondary', ['argentina', [41.8975, 12.4715], [41.9003, 12.4665], [41.9025, 12.4665]]],
  ['Via IV Novembre', 'secondary', ['venezia', [41.8975, 12.4838], 'magnanapoli']],
  ['Via Nazionale', 'secondary', ['magnanapoli', [41.8995, 12.4925], 'repubblica']],
  ['Via della Pilotta', 'residential', ['magnanapoli', [41.9006, 12.487]]],
  ['Via Cavour', 'secondary', ['cavour', [41.8955, 12.4945], [41.8975, 12.4985], 'termini']],
  ['Via Giolitti', 'tertiary', ['termini', [41.8985, 12.501], [41.8968, 12.5016]]],
  ['Via Vittorio Veneto', 'tertiary', ['repubblica', 'barberini', [41.9075, 12.489], [41.9142, 12.4922]]],
  ['Via del Tritone', 'secondary', ['tritone', 'barberini']],
  ['Via dei Condotti', 'pedestrian', ['condotti', [41.9059, 12.4823]]],
  ['Via delle Muratte', 'pedestrian', ['muratte', [41.9009, 12.4833]]],
  ['Via del Seminario', 'pedestrian', ['seminario', [41.8995, 12.4776], [41.8986, 12.4769], [41.8981, 12.4751], [41.8992, 12.4731], [41.9009, 12.4725]]],
  ['Via del Teatro di Marcello', 'secondary', ['venezia', [41.8929, 12.481]]],
  ['Via dei Giubbonari', 'pedestrian', ['argentina', [41.8956, 12.4722], [41.8937, 12.4734]]],
];

/** The streets as Overpass elements: ways with node ids every ~80 m, then the nodes. */
function streetMap() {
  const ids = new Map();
  const nodes = [];
  let next = 900000;
  const nodeAt = ([lat, lon], key) => {
    if (key && ids.has(key)) return ids.get(key);
    const id = next++;
    nodes.push({ type: 'node', id, lat: Number(lat.toFixed(7)), lon: Number(lon.toFixed(7)) });
    if (key) ids.set(key, id);
    return id;
  };
  const ways = STREETS.map(([name, highway, through], i) => {
    const points = through.map((p) => (typeof p === 'string' ? { at: J[p], key: p } : { at: p, key: null }));
    const refs = [nodeAt(points[0].at, points[0].key)];
    for (let k = 1; k < points.length; k++) {
      const [a, b] = [points[k - 1].at, points[k].at];
      const steps = Math.max(1, Math.ceil(Math.hypot(b[0] - a[0], b[1] - a[1]) / 0.0008));
      for (let s = 1; s < steps; s++) {
        refs.push(nodeAt([a[0] + ((b[0] - a[0]) * s) / steps, a[1] + ((b[1] - a[1]) * s) / steps]));
      }
      refs.push(nodeAt(b, points[k].key));
    }
    return { type: 'way', id: 700 + i, nodes: refs, tags: { highway, name } };
  });
  return [...ways, ...nodes];
}

/** The box of the query's `[bbox:S,W,N,E]`, if any. */
function box(query) {
  const m = /\[bbox:(-?[\d.]+),(-?[\d.]+),(-?[\d.]+),(-?[\d.]+)\]/.exec(query);
  return m ? m.slice(1).map(Number) : null;
}

/** The centre of the query's `around:RADIUS,LAT,LON`, if any. */
function centre(query) {
  const m = /around:(\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)/.exec(query);
  return m ? { lat: Number(m[2]), lon: Number(m[3]) } : null;
}

function nearRome(c) {
  const dLat = (c.lat - ROME.lat) * 111;
  const dLon = (c.lon - ROME.lon) * 111 * Math.cos((ROME.lat * Math.PI) / 180);
  return Math.hypot(dLat, dLon) < 20;
}

const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => {
    body += chunk;
  });
  req.on('end', () => {
    const query = new URLSearchParams(body).get('data') || '';
    if (log) {
      appendFileSync(
        log,
        `${JSON.stringify({ method: req.method, url: req.url, agent: req.headers['user-agent'] || '', query })}\n`,
      );
    }
    if (req.method !== 'POST' || req.url !== '/api/interpreter' || !query.startsWith('[out:json]')) {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('The data included in this request could not be parsed.');
      return;
    }
    const c = centre(query);
    const places = query.includes('tourism');
    const b = box(query);
    let elements;
    if (query.includes('way["highway"]')) {
      // The streets lie within 41.88–41.92 N, 12.46–12.51 E.
      const overRome = b && b[0] <= 41.92 && b[2] >= 41.88 && b[1] <= 12.51 && b[3] >= 12.46;
      elements = overRome ? streetMap() : [];
    } else {
      elements = c && nearRome(c) ? PLACES.filter((p) => places || p.tags.shop) : [];
    }
    const answer = JSON.stringify({ version: 0.6, generator: 'Tripwright e2e stand-in', elements });
    setTimeout(
      () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(answer);
      },
      places ? PAUSE_MS : 0,
    );
  });
});

server.listen(0, '127.0.0.1', () => {
  console.log(server.address().port);
});

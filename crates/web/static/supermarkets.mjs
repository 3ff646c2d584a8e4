// The supermarkets page: the map of the server's answer (see map.mjs), the radius read-out
// and city suggestions. The list below the map is server-rendered; a click (or Enter) on a
// shop opens its popup on the map.
import { $, $$, suggestPlaces } from './site.mjs';
import { drawShopMap } from './map.mjs';

const radius = $('#radius');
const out = $('#radius-value');
if (radius && out) {
  const show = () => {
    out.textContent = `${radius.value} km`;
  };
  radius.addEventListener('input', show);
  show();
}

// Coordinates ("60.17, 24.94") are not looked up.
suggestPlaces($('#near'), $('#near-suggestions'), (q) => /^[-+\d.,;\s]+$/.test(q));

const element = $('#supermarkets-map');
if (element) {
  const { map, markers } = drawShopMap(element);
  for (const li of $$('#supermarket-list li.shop')) {
    const marker = markers[Number(li.getAttribute('data-index'))];
    if (!map || !marker) continue;
    li.tabIndex = 0;
    li.classList.add('clickable');
    const open = () => {
      map.panTo(marker.getLatLng());
      marker.openPopup();
    };
    li.addEventListener('click', open);
    li.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' || ev.key === ' ') {
        ev.preventDefault();
        open();
      }
    });
  }
}

//! A static SVG sketch of the plan's routes, over the street map where there is one.

use std::fmt::Write as _;

use tripwright_domain::{BBox, MapFeature, MapLayer, Plan, day_colour};

use crate::format::recommended_hotel;

const MARGIN: f64 = 14.0;
const LEGEND_ITEM_WIDTH: f64 = 74.0;
const LEGEND_ROW_HEIGHT: f64 = 16.0;
const ATTRIBUTION_HEIGHT: f64 = 16.0;
/// The sketch's background where there is no street map.
const PLAIN: &str = "#f1f5f9";
/// Land on the street map (the web tiles' colour).
const LAND: &str = "#f2efe9";

/// Where the parts of a sketch of `width` × `height` go, and how the plan's points map to it.
struct Layout {
    w: f64,
    h: f64,
    per_row: usize,
    map_top: f64,
    map_w: f64,
    map_h: f64,
    proj: Option<Projection>,
}

impl Layout {
    fn of(plan: &Plan, width: u32, height: u32) -> Self {
        let w = f64::from(width.clamp(160, 8000));
        let h = f64::from(height.clamp(120, 8000));
        let hotel = recommended_hotel(plan).filter(|h| valid(h.lat, h.lon));
        // Legend layout: items in rows below the map, then the attribution line.
        let items = plan.itinerary.days.len() + usize::from(hotel.is_some());
        let per_row = (((w - 2.0 * MARGIN) / LEGEND_ITEM_WIDTH).floor() as usize).max(1);
        let rows = items.div_ceil(per_row);
        let legend_h = rows as f64 * LEGEND_ROW_HEIGHT + ATTRIBUTION_HEIGHT + 6.0;
        let map_top = MARGIN;
        let map_h = (h - legend_h - 2.0 * MARGIN).max(20.0);
        let map_w = w - 2.0 * MARGIN;
        let mut points: Vec<(f64, f64)> = plan
            .itinerary
            .days
            .iter()
            .flat_map(|d| d.stops.iter())
            .filter(|s| valid(s.lat, s.lon))
            .map(|s| (s.lat, s.lon))
            .collect();
        if points.is_empty() {
            return Self {
                w,
                h,
                per_row,
                map_top,
                map_w,
                map_h,
                proj: None,
            };
        }
        if let Some(h) = hotel {
            points.push((h.lat, h.lon));
        }
        // The walks along the streets may bend outside the stops' box.
        points.extend(
            plan.itinerary
                .days
                .iter()
                .flat_map(|d| d.stops.iter().flat_map(|s| &s.route).chain(&d.route_back))
                .filter(|p| valid(p[0], p[1]))
                .map(|p| (p[0], p[1])),
        );
        let proj = Projection::fit(&points, MARGIN, map_top, map_w, map_h);
        Self {
            w,
            h,
            per_row,
            map_top,
            map_w,
            map_h,
            proj: Some(proj),
        }
    }
}

/// The latitude/longitude box the map part of a `width` × `height` sketch of `plan` shows
/// (`None` without stops): the street map features to draw under it lie in it.
pub fn route_area(plan: &Plan, width: u32, height: u32) -> Option<BBox> {
    let l = Layout::of(plan, width, height);
    let proj = l.proj.as_ref()?;
    let (north, west) = proj.lat_lon(MARGIN, l.map_top);
    let (south, east) = proj.lat_lon(MARGIN + l.map_w, l.map_top + l.map_h);
    Some(BBox {
        min_lat: south,
        min_lon: west,
        max_lat: north,
        max_lon: east,
    })
}

/// A static route sketch of the plan as an SVG document of `width` × `height` pixels (each at
/// least 160 × 120), drawn over `basemap`: the street map's water, parks and streets in
/// [`route_area`] (none: a plain background).
///
/// Stops are numbered dots coloured per day, numbered as in the itinerary; each day's route
/// runs from the hotel through its stops and back, along the streets where the plan walked
/// them, straight otherwise; the hotel is a square. The projection is equirectangular
/// (longitudes scaled by the cosine of the mean latitude), fitted to the points, without a
/// scale bar. A legend ("Day 1", "Day 2" …, "Hotel") and "© OpenStreetMap contributors" sit
/// below the map. Every piece of text is XML-escaped.
pub fn route_svg(plan: &Plan, width: u32, height: u32, basemap: &[MapFeature]) -> String {
    let layout = Layout::of(plan, width, height);
    let Layout {
        w,
        h,
        per_row,
        map_top,
        map_w,
        map_h,
        ..
    } = layout;
    let hotel = recommended_hotel(plan).filter(|h| valid(h.lat, h.lon));
    let days: Vec<_> = plan.itinerary.days.iter().collect();

    let mut svg = String::new();
    let _ = write!(
        svg,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="DejaVu Sans, Verdana, sans-serif" font-size="11">"##
    );
    let _ = write!(
        svg,
        r##"<title>{}</title>"##,
        xml(&format!(
            "Route sketch: {}",
            crate::format::trip_title(plan)
        ))
    );
    let _ = write!(
        svg,
        r##"<rect x="0.5" y="0.5" width="{}" height="{}" fill="#ffffff" stroke="#cbd5e1"/>"##,
        w - 1.0,
        h - 1.0
    );
    let background = if basemap.is_empty() { PLAIN } else { LAND };
    let _ = write!(
        svg,
        r##"<rect x="{MARGIN}" y="{map_top}" width="{map_w}" height="{map_h}" fill="{background}" stroke="#e2e8f0"/>"##
    );

    match &layout.proj {
        None => {
            let _ = write!(
                svg,
                r##"<text x="{}" y="{}" text-anchor="middle" fill="#475569">No stops to show</text>"##,
                w / 2.0,
                map_top + map_h / 2.0
            );
        }
        Some(proj) => {
            if !basemap.is_empty() {
                let _ = write!(
                    svg,
                    r##"<defs><clipPath id="map"><rect x="{MARGIN}" y="{map_top}" width="{map_w}" height="{map_h}"/></clipPath></defs><g clip-path="url(#map)">"##
                );
                draw_basemap(&mut svg, proj, basemap);
                svg.push_str("</g>");
            }
            draw_routes(&mut svg, proj, plan, hotel.map(|h| (h.lat, h.lon)));
            for (i, day) in days.iter().enumerate() {
                for (n, stop) in day.stops.iter().enumerate() {
                    if !valid(stop.lat, stop.lon) {
                        continue;
                    }
                    let (x, y) = proj.xy(stop.lat, stop.lon);
                    let _ = write!(
                        svg,
                        r##"<circle cx="{x:.1}" cy="{y:.1}" r="6.5" fill="{}" stroke="#ffffff" stroke-width="1.5"><title>{}</title></circle><text x="{x:.1}" y="{:.1}" text-anchor="middle" font-size="8" font-weight="bold" fill="#ffffff">{}</text>"##,
                        day_colour(i),
                        xml(&format!(
                            "Day {}, stop {}: {} ({}–{})",
                            day.day,
                            n + 1,
                            stop.name,
                            stop.start,
                            stop.end
                        )),
                        y + 2.8,
                        n + 1
                    );
                }
            }
            if let Some(h) = hotel {
                let (x, y) = proj.xy(h.lat, h.lon);
                let _ = write!(
                    svg,
                    r##"<rect x="{:.1}" y="{:.1}" width="11" height="11" fill="#111827" stroke="#ffffff" stroke-width="1.5"><title>{}</title></rect>"##,
                    x - 5.5,
                    y - 5.5,
                    xml(&format!("Hotel: {}", h.name))
                );
            }
        }
    }

    // Legend.
    let legend_top = map_top + map_h + 8.0;
    let mut slot = 0usize;
    let place = |slot: usize| {
        let col = slot % per_row;
        let row = slot / per_row;
        (
            MARGIN + col as f64 * LEGEND_ITEM_WIDTH,
            legend_top + row as f64 * LEGEND_ROW_HEIGHT + 6.0,
        )
    };
    for (i, day) in days.iter().enumerate() {
        let (x, y) = place(slot);
        slot += 1;
        let _ = write!(
            svg,
            r##"<circle cx="{:.1}" cy="{y:.1}" r="5" fill="{}"/><text x="{:.1}" y="{:.1}" fill="#1e293b">{}</text>"##,
            x + 5.0,
            day_colour(i),
            x + 14.0,
            y + 4.0,
            xml(&format!("Day {}", day.day))
        );
    }
    if hotel.is_some() {
        let (x, y) = place(slot);
        let _ = write!(
            svg,
            r##"<rect x="{:.1}" y="{:.1}" width="10" height="10" fill="#111827"/><text x="{:.1}" y="{:.1}" fill="#1e293b">Hotel</text>"##,
            x,
            y - 5.0,
            x + 14.0,
            y + 4.0
        );
    }
    let _ = write!(
        svg,
        r##"<text x="{:.1}" y="{:.1}" text-anchor="end" font-size="9" fill="#475569">{}</text>"##,
        w - MARGIN,
        h - 6.0,
        xml("© OpenStreetMap contributors")
    );
    svg.push_str("</svg>");
    svg
}

/// Each day's walk as one polyline: hotel, then each stop reached along its route (straight
/// where it has none), then back to the hotel.
fn draw_routes(svg: &mut String, proj: &Projection, plan: &Plan, hotel: Option<(f64, f64)>) {
    for (i, day) in plan.itinerary.days.iter().enumerate() {
        let mut route: Vec<(f64, f64)> = Vec::new();
        route.extend(hotel.map(|(lat, lon)| proj.xy(lat, lon)));
        for stop in day.stops.iter().filter(|s| valid(s.lat, s.lon)) {
            if hotel.is_some() || !route.is_empty() {
                route.extend(stop.route.iter().map(|p| proj.xy(p[0], p[1])));
            }
            route.push(proj.xy(stop.lat, stop.lon));
        }
        if let Some((lat, lon)) = hotel
            && route.len() > 1
        {
            route.extend(day.route_back.iter().map(|p| proj.xy(p[0], p[1])));
            route.push(proj.xy(lat, lon));
        }
        route.dedup_by(|a, b| (a.0 - b.0).abs() < 0.05 && (a.1 - b.1).abs() < 0.05);
        if route.len() < 2 {
            continue;
        }
        let _ = write!(
            svg,
            r##"<polyline points="{}" fill="none" stroke="{}" stroke-width="2.5" stroke-linejoin="round" stroke-linecap="round" stroke-opacity="0.85"><title>{}</title></polyline>"##,
            points(&route),
            day_colour(i),
            xml(&day_label(day.day, &day.title))
        );
    }
}

/// Water, parks and streets, in the web tiles' colours, thin enough not to hide the routes.
fn draw_basemap(svg: &mut String, proj: &Projection, features: &[MapFeature]) {
    let area = |svg: &mut String, layer: MapLayer, fill: &str| {
        for f in features.iter().filter(|f| f.layer == layer) {
            let mut d = String::new();
            for ring in f.rings.iter().filter(|r| r.len() >= 3) {
                for (k, p) in ring.iter().enumerate() {
                    let (x, y) = proj.xy(p.lat, p.lon);
                    let _ = write!(d, "{}{x:.1},{y:.1}", if k == 0 { "M" } else { "L" });
                }
                d.push('Z');
            }
            if !d.is_empty() {
                let _ = write!(
                    svg,
                    r##"<path d="{d}" fill="{fill}" fill-rule="evenodd" stroke="none"/>"##
                );
            }
        }
    };
    area(svg, MapLayer::Water, "#aad3df");
    area(svg, MapLayer::Land, LAND);
    area(svg, MapLayer::Green, "#d7e8c9");
    area(svg, MapLayer::Square, "#e6e1d8");
    let roads: Vec<(&MapFeature, f64)> = features
        .iter()
        .filter(|f| f.layer == MapLayer::Road)
        .map(|f| (f, road_width(&f.class)))
        .collect();
    let line = |svg: &mut String, f: &MapFeature, stroke: &str, width: f64| {
        if let Some(ring) = f.rings.first().filter(|r| r.len() >= 2) {
            let pts: Vec<(f64, f64)> = ring.iter().map(|p| proj.xy(p.lat, p.lon)).collect();
            let _ = write!(
                svg,
                r##"<polyline points="{}" fill="none" stroke="{stroke}" stroke-width="{width:.1}" stroke-linecap="round" stroke-linejoin="round"/>"##,
                points(&pts)
            );
        }
    };
    // Casings of the streets first, then their fills, so crossings join.
    for (f, width) in roads.iter().filter(|(_, w)| *w > 1.0) {
        line(svg, f, "#c9c2b8", width + 1.0);
    }
    for (f, width) in &roads {
        let stroke = if *width > 1.0 { "#ffffff" } else { "#b8b0a4" };
        line(svg, f, stroke, *width);
    }
}

/// A street's drawn width in the sketch by its class; paths are hairlines.
fn road_width(class: &str) -> f64 {
    match class {
        "motorway" | "trunk" | "primary" | "secondary" => 3.2,
        "tertiary" | "residential" | "unclassified" | "living_street" | "road" | "pedestrian" => {
            2.2
        }
        "service" => 1.4,
        _ => 0.6,
    }
}

fn points(p: &[(f64, f64)]) -> String {
    p.iter()
        .map(|(x, y)| format!("{x:.1},{y:.1}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn day_label(day: u8, title: &str) -> String {
    let title = title.trim();
    if title.is_empty() {
        format!("Day {day}")
    } else {
        format!("Day {day}: {title}")
    }
}

fn valid(lat: f64, lon: f64) -> bool {
    lat.is_finite()
        && lon.is_finite()
        && (-90.0..=90.0).contains(&lat)
        && (-180.0..=180.0).contains(&lon)
}

/// Equirectangular projection fitted into a box, keeping the aspect ratio.
struct Projection {
    k: f64,
    scale: f64,
    x0: f64,
    y0: f64,
    min_x: f64,
    max_y: f64,
}

impl Projection {
    fn fit(points: &[(f64, f64)], left: f64, top: f64, width: f64, height: f64) -> Self {
        let mean_lat = points.iter().map(|p| p.0).sum::<f64>() / points.len() as f64;
        let k = mean_lat.to_radians().cos().max(0.05);
        let xs = points.iter().map(|p| p.1 * k);
        let ys = points.iter().map(|p| p.0);
        let (min_x, max_x) = xs.fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(x), b.max(x)));
        let (min_y, max_y) = ys.fold((f64::MAX, f64::MIN), |(a, b), y| (a.min(y), b.max(y)));
        // At least ~200 m across, so one point or a tight cluster is not blown up.
        let span_x = (max_x - min_x).max(0.002);
        let span_y = (max_y - min_y).max(0.002);
        let pad = 14.0;
        let inner_w = (width - 2.0 * pad).max(1.0);
        let inner_h = (height - 2.0 * pad).max(1.0);
        let scale = (inner_w / span_x).min(inner_h / span_y);
        // Centre the drawing in the box.
        let x0 = left + pad + (inner_w - (max_x - min_x) * scale) / 2.0;
        let y0 = top + pad + (inner_h - (max_y - min_y) * scale) / 2.0;
        Self {
            k,
            scale,
            x0,
            y0,
            min_x,
            max_y,
        }
    }

    fn xy(&self, lat: f64, lon: f64) -> (f64, f64) {
        (
            self.x0 + (lon * self.k - self.min_x) * self.scale,
            self.y0 + (self.max_y - lat) * self.scale,
        )
    }

    /// The latitude and longitude at the point `(x, y)` of the picture.
    fn lat_lon(&self, x: f64, y: f64) -> (f64, f64) {
        (
            self.max_y - (y - self.y0) / self.scale,
            ((x - self.x0) / self.scale + self.min_x) / self.k,
        )
    }
}

/// Escapes text for XML content and attribute values; drops characters XML 1.0 forbids.
pub(crate) fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escaping() {
        assert_eq!(
            xml(r#"<a href="x">Tom & 'Jerry'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &apos;Jerry&apos;&lt;/a&gt;"
        );
        assert_eq!(xml("a\u{1}b\nc"), "ab c");
    }

    #[test]
    fn projection_keeps_points_in_the_box() {
        let pts = [(60.16, 24.93), (60.18, 24.96), (60.17, 24.95)];
        let p = Projection::fit(&pts, 10.0, 10.0, 300.0, 200.0);
        for (lat, lon) in pts {
            let (x, y) = p.xy(lat, lon);
            assert!((10.0..=310.0).contains(&x), "x {x}");
            assert!((10.0..=210.0).contains(&y), "y {y}");
        }
        // North is up, east is right.
        let (x1, y1) = p.xy(60.16, 24.93);
        let (x2, y2) = p.xy(60.18, 24.96);
        assert!(x2 > x1 && y2 < y1);
        // lat_lon undoes xy.
        let (lat, lon) = p.lat_lon(x2, y2);
        assert!((lat - 60.18).abs() < 1e-9 && (lon - 24.96).abs() < 1e-9);
    }
}

//! The binary form of a map feature's geometry: little-endian, the ring count, then each ring
//! as its point count and (latitude, longitude) pairs in 1e-7 degrees (OpenStreetMap's own
//! precision, i32), then the node count and the node ids (i64).

use tripwright_domain::GeoPoint;

const E7: f64 = 1e7;

/// Encodes `rings` and `nodes`.
pub(crate) fn encode(rings: &[Vec<GeoPoint>], nodes: &[i64]) -> Vec<u8> {
    let points: usize = rings.iter().map(Vec::len).sum();
    let mut out = Vec::with_capacity(8 + 4 * rings.len() + 8 * points + 8 * nodes.len());
    out.extend_from_slice(&(rings.len() as u32).to_le_bytes());
    for ring in rings {
        out.extend_from_slice(&(ring.len() as u32).to_le_bytes());
        for p in ring {
            out.extend_from_slice(&((p.lat * E7).round() as i32).to_le_bytes());
            out.extend_from_slice(&((p.lon * E7).round() as i32).to_le_bytes());
        }
    }
    out.extend_from_slice(&(nodes.len() as u32).to_le_bytes());
    for id in nodes {
        out.extend_from_slice(&id.to_le_bytes());
    }
    out
}

/// Decodes what [`encode`] wrote, or `None` when the bytes are not such a geometry.
pub(crate) fn decode(bytes: &[u8]) -> Option<(Vec<Vec<GeoPoint>>, Vec<i64>)> {
    let mut at = 0usize;
    let mut take = |n: usize| {
        let s = bytes.get(at..at + n)?;
        at += n;
        Some(s)
    };
    let u32_of = |s: &[u8]| s.try_into().ok().map(u32::from_le_bytes);
    let rings_n = u32_of(take(4)?)? as usize;
    let mut rings = Vec::with_capacity(rings_n.min(1 << 16));
    for _ in 0..rings_n {
        let n = u32_of(take(4)?)? as usize;
        let mut ring = Vec::with_capacity(n.min(1 << 20));
        for _ in 0..n {
            let lat = i32::from_le_bytes(take(4)?.try_into().ok()?);
            let lon = i32::from_le_bytes(take(4)?.try_into().ok()?);
            ring.push(GeoPoint::new(f64::from(lat) / E7, f64::from(lon) / E7));
        }
        rings.push(ring);
    }
    let nodes_n = u32_of(take(4)?)? as usize;
    let mut nodes = Vec::with_capacity(nodes_n.min(1 << 20));
    for _ in 0..nodes_n {
        nodes.push(i64::from_le_bytes(take(8)?.try_into().ok()?));
    }
    (at == bytes.len()).then_some((rings, nodes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometry_round_trips_at_osm_precision_and_rejects_garbage() {
        let rings = vec![
            vec![
                GeoPoint::new(60.1693241, 24.9525118),
                GeoPoint::new(-33.8567844, 151.2152967),
            ],
            vec![],
        ];
        let nodes = vec![1, -2, i64::MAX];
        let bytes = encode(&rings, &nodes);
        let (r, n) = decode(&bytes).expect("decodes");
        assert_eq!(n, nodes);
        assert_eq!(r.len(), 2);
        assert!((r[0][0].lat - 60.1693241).abs() < 1e-9);
        assert!((r[0][1].lon - 151.2152967).abs() < 1e-9);
        assert!(decode(&bytes[..bytes.len() - 1]).is_none(), "cut short");
        assert!(
            decode(&[bytes.as_slice(), &[0]].concat()).is_none(),
            "trailing bytes"
        );
        assert!(decode(&[255, 255, 255, 255]).is_none());
    }
}

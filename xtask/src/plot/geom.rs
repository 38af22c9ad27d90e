//! Rectangles and line clipping in design pixels (y grows downwards).

/// A point in design pixels.
pub type Point = (f64, f64);

/// An axis-aligned rectangle, `x0 ≤ x1` and `y0 ≤ y1` (top-left to bottom-right).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rect {
    /// Left edge.
    pub x0: f64,
    /// Top edge.
    pub y0: f64,
    /// Right edge.
    pub x1: f64,
    /// Bottom edge.
    pub y1: f64,
}

impl Rect {
    /// The rectangle with top-left corner `(x, y)` and the given size.
    pub fn at(x: f64, y: f64, w: f64, h: f64) -> Rect {
        Rect { x0: x, y0: y, x1: x + w, y1: y + h }
    }

    /// A small square around `p`, standing for a point in overlap tests.
    pub fn around(p: Point, half: f64) -> Rect {
        Rect { x0: p.0 - half, y0: p.1 - half, x1: p.0 + half, y1: p.1 + half }
    }

    /// The width.
    pub fn w(&self) -> f64 {
        self.x1 - self.x0
    }

    /// The height.
    pub fn h(&self) -> f64 {
        self.y1 - self.y0
    }

    /// The horizontal middle.
    pub fn cx(&self) -> f64 {
        (self.x0 + self.x1) / 2.0
    }

    /// The vertical middle.
    pub fn cy(&self) -> f64 {
        (self.y0 + self.y1) / 2.0
    }

    /// Whether `p` lies inside or on the edge, give or take `slack`.
    pub fn contains(&self, p: Point, slack: f64) -> bool {
        p.0 >= self.x0 - slack
            && p.0 <= self.x1 + slack
            && p.1 >= self.y0 - slack
            && p.1 <= self.y1 + slack
    }

    /// Whether the two rectangles share any point.
    pub fn intersects(&self, other: &Rect) -> bool {
        self.x0 <= other.x1 && other.x0 <= self.x1 && self.y0 <= other.y1 && other.y0 <= self.y1
    }

    /// The rectangle grown by `d` on every side (shrunk when `d` is negative).
    pub fn grown(&self, d: f64) -> Rect {
        Rect { x0: self.x0 - d, y0: self.y0 - d, x1: self.x1 + d, y1: self.y1 + d }
    }
}

/// The part of the segment `a`–`b` inside `r`, if any (Liang–Barsky: the segment is
/// a + t(b − a) for t in [0, 1]; each edge of `r` bounds t from one side).
pub fn clip_segment(a: Point, b: Point, r: &Rect) -> Option<(Point, Point)> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0_f64, 1.0_f64);
    let edges = [(-dx, a.0 - r.x0), (dx, r.x1 - a.0), (-dy, a.1 - r.y0), (dy, r.y1 - a.1)];
    for (p, q) in edges {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
            continue;
        }
        let t = q / p;
        if p < 0.0 {
            t0 = t0.max(t);
        } else {
            t1 = t1.min(t);
        }
        if t0 > t1 {
            return None;
        }
    }
    Some(((a.0 + t0 * dx, a.1 + t0 * dy), (a.0 + t1 * dx, a.1 + t1 * dy)))
}

/// Splits a polyline into the runs that lie inside `r`. `None` points (values the axes cannot
/// show) break the line; points closer than `min_step` to the last kept one are dropped, so
/// that a million-step curve does not become a million-point path.
pub fn clip_polyline(
    points: impl IntoIterator<Item = Option<Point>>,
    r: &Rect,
    min_step: f64,
) -> Vec<Vec<Point>> {
    let mut runs = Vec::new();
    let mut run: Vec<Point> = Vec::new();
    let mut prev: Option<Point> = None;
    for p in points {
        let clipped = prev.zip(p).and_then(|(a, b)| clip_segment(a, b, r));
        match clipped {
            Some((a, b)) => {
                if run.last().is_none_or(|&last| distance(last, a) > 1e-6) {
                    flush(&mut run, &mut runs);
                    run.push(a);
                }
                push_thinned(&mut run, b, min_step);
            }
            None => flush(&mut run, &mut runs),
        }
        prev = p;
    }
    flush(&mut run, &mut runs);
    runs
}

/// Appends `p` to a run, replacing the run's last point when that one was kept only as the
/// provisional end of the line and lies within `min_step` of the one before.
fn push_thinned(run: &mut Vec<Point>, p: Point, min_step: f64) {
    if run.len() >= 2 && distance(run[run.len() - 2], run[run.len() - 1]) < min_step {
        run.pop();
    }
    run.push(p);
}

fn flush(run: &mut Vec<Point>, runs: &mut Vec<Vec<Point>>) {
    if run.len() >= 2 {
        runs.push(std::mem::take(run));
    } else {
        run.clear();
    }
}

/// The Euclidean distance between two points.
pub fn distance(a: Point, b: Point) -> f64 {
    (a.0 - b.0).hypot(a.1 - b.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOX: Rect = Rect { x0: 0.0, y0: 0.0, x1: 10.0, y1: 10.0 };

    #[test]
    fn segments_are_cut_at_the_edges() {
        let (a, b) = clip_segment((-5.0, 5.0), (15.0, 5.0), &BOX).unwrap();
        assert_eq!((a, b), ((0.0, 5.0), (10.0, 5.0)));
        assert!(clip_segment((-5.0, -1.0), (15.0, -1.0), &BOX).is_none());
        assert!(clip_segment((-5.0, 4.0), (4.0, -5.0), &BOX).is_none());
        assert_eq!(clip_segment((1.0, 1.0), (2.0, 2.0), &BOX), Some(((1.0, 1.0), (2.0, 2.0))));
    }

    #[test]
    fn gaps_and_excursions_split_a_polyline() {
        let points = [Some((1.0, 1.0)), Some((2.0, 2.0)), None, Some((3.0, 3.0)), Some((4.0, 4.0))];
        assert_eq!(clip_polyline(points, &BOX, 0.0).len(), 2);

        let out_and_back = [Some((1.0, 5.0)), Some((20.0, 5.0)), Some((1.0, 6.0))];
        let runs = clip_polyline(out_and_back, &BOX, 0.0);
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0], vec![(1.0, 5.0), (10.0, 5.0)]);
    }

    #[test]
    fn dense_points_are_thinned_but_the_ends_stay() {
        let points = (0..=1000).map(|i| Some((f64::from(i) / 100.0, 5.0)));
        let runs = clip_polyline(points, &BOX, 0.5);
        assert_eq!(runs.len(), 1);
        assert!(runs[0].len() <= 30, "{} points kept", runs[0].len());
        assert_eq!(runs[0][0], (0.0, 5.0));
        assert_eq!(*runs[0].last().unwrap(), (10.0, 5.0));
    }
}

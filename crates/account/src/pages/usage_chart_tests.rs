//! The usage chart's drawing.
use super::*;

fn bar(tick: &str, show: Tick, counts: Counts) -> Bar {
    Bar {
        tick: tick.to_owned(),
        label: format!("15 Jan {tick}"),
        show,
        counts,
    }
}

const NAMES: [&str; 8] = ["V", "I", "E", "R", "D", "IP", "S", "T"];

fn chart<'a>(bars: &'a [Bar]) -> Chart<'a> {
    Chart {
        id: "c",
        title: "Title",
        desc: "Desc",
        empty: "No verifications",
        outcomes: NAMES,
        bars,
    }
}

/// The (outcome, value, height) of every drawn segment.
fn segments(svg: &str) -> Vec<(String, i64, f64)> {
    let attr = |tag: &str, name: &str| -> String {
        let start = tag.find(&format!(" {name}=\"")).expect("the attribute") + name.len() + 3;
        let end = tag[start..].find('"').expect("its end");
        tag[start..start + end].to_owned()
    };
    svg.split("<rect ")
        .skip(1)
        .map(|tag| {
            let tag = &tag[..tag.find("/>").expect("closed")];
            (
                attr(tag, "data-outcome"),
                attr(tag, "data-value").parse().expect("a number"),
                attr(tag, "height").parse().expect("a number"),
            )
        })
        .collect()
}

#[test]
fn bar_heights_are_proportional_and_stacked_by_outcome() {
    let bars = [
        bar("08:00", Tick::Always, [2, 0, 0, 0, 0, 0, 0, 0]),
        bar("09:00", Tick::Wide, [4, 0, 0, 0, 0, 0, 0, 0]),
        bar("10:00", Tick::None, [1, 0, 0, 3, 0, 0, 0, 0]),
    ];
    for frame in [WIDE, NARROW] {
        let s = svg(&chart(&bars), frame);
        let segs = segments(&s);
        assert_eq!(segs.len(), 4, "{s}");
        let h = |i: usize| segs[i].2;
        assert!((h(1) - 2.0 * h(0)).abs() < 0.01, "4 is twice 2: {segs:?}");
        assert!(
            (h(3) - 3.0 * h(2)).abs() < 0.01,
            "3 is three times 1: {segs:?}"
        );
        assert!(
            (h(2) + h(3) - h(1)).abs() < 0.01,
            "1 + 3 as tall as 4: {segs:?}"
        );
        assert_eq!(
            (segs[2].0.as_str(), segs[3].0.as_str()),
            ("valid", "revoked")
        );
        assert!(s.contains("<title>15 Jan 10:00: V 1, R 3</title>"), "{s}");
        assert!(!s.contains("chart-empty"));
        // Round ticks: 0, 1, 2, 3, 4.
        for v in ["0", "1", "2", "3", "4"] {
            assert!(s.contains(&format!("\">{v}</text>")), "tick {v}: {s}");
        }
    }
    let wide = svg(&chart(&bars), WIDE);
    let narrow = svg(&chart(&bars), NARROW);
    assert!(wide.contains(">08:00</text>") && wide.contains(">09:00</text>"));
    assert!(narrow.contains(">08:00</text>") && !narrow.contains(">09:00</text>"));
    assert!(!wide.contains(">10:00</text>"));
}

#[test]
fn zero_data_draws_an_empty_chart_with_a_note() {
    let bars: Vec<Bar> = (0..24)
        .map(|h| bar(&format!("{h:02}:00"), Tick::Always, [0; 8]))
        .collect();
    let s = svg(&chart(&bars), WIDE);
    assert!(segments(&s).is_empty(), "{s}");
    assert!(s.contains(">No verifications</text>"), "{s}");
    assert!(s.contains(">0</text>"), "the axis still has its 0");
    assert!(s.contains(">23:00</text>"), "and the hours");
    assert!(s.starts_with("<svg ") && s.ends_with("</svg>"));
    assert!(s.contains(
        "role=\"img\" aria-labelledby=\"c-wide-title\" aria-describedby=\"c-wide-desc\""
    ));
    assert!(s.contains("<title id=\"c-wide-title\">Title</title>"));
    assert!(s.contains("<desc id=\"c-wide-desc\">Desc</desc>"));
    let none = svg(&chart(&[]), NARROW);
    assert!(none.contains(">No verifications</text>"));
}

#[test]
fn every_text_is_escaped() {
    let evil = "<script>&\"'";
    let bars = [Bar {
        tick: evil.to_owned(),
        label: evil.to_owned(),
        show: Tick::Always,
        counts: [1, 0, 0, 0, 0, 0, 0, 0],
    }];
    let mut names = NAMES;
    names[0] = evil;
    let c = Chart {
        id: "x\"y",
        title: evil,
        desc: evil,
        empty: evil,
        outcomes: names,
        bars: &bars,
    };
    for frame in [WIDE, NARROW] {
        let s = svg(&c, frame);
        assert!(!s.contains("<script"), "{s}");
        assert!(!s.contains("x\"y"), "{s}");
        assert!(s.contains("&lt;script&gt;&amp;&quot;&#39;"), "{s}");
    }
    let empty = svg(&Chart { bars: &[], ..c }, WIDE);
    assert!(empty.contains(">&lt;script&gt;&amp;&quot;&#39;</text>"));
}

#[test]
fn ticks_are_round() {
    assert_eq!(scale(0), (0, 1));
    assert_eq!(scale(1), (1, 1));
    assert_eq!(scale(5), (5, 1));
    assert_eq!(scale(7), (8, 2));
    assert_eq!(scale(12), (15, 5));
    assert_eq!(scale(101), (150, 50));
    assert_eq!(scale(9_999), (10_000, 2_000));
    assert_eq!(scale(i64::MAX).0, i64::MAX);
    assert_eq!(tick_text(900), "900");
    assert_eq!(tick_text(6_000), "6000");
    assert_eq!(tick_text(20_000), "20k");
    assert_eq!(tick_text(3_000_000), "3M");
    assert_eq!(tick_text(1_500_000), "1500k");
}

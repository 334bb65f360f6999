//! The Usage page's charts (SPEC §11): one stacked bar per hour or day, by
//! outcome, drawn on the server as inline SVG. No script draws it, and the
//! CSP allows no inline style: only presentation attributes (`fill`, `x`,
//! `height`...) and the site's classes. Every text is escaped here, since
//! the page inserts the markup as it is.

use std::fmt::Write as _;

use crate::store::{Counts, OUTCOMES};

/// The fill of each outcome, in the order of [`OUTCOMES`] (which is also the
/// legend's and the stacking order, bottom up). Each has at least 4:1
/// contrast against white (WCAG 1.4.11 asks 3:1); a white line separates
/// the segments of a bar, so neighbours never run together.
pub const COLOURS: [&str; 8] = [
    "#2b8a3e", "#b3261e", "#8f6a00", "#5b2c91", "#6b6b6b", "#c85000", "#0f5c9e", "#c2185b",
];

const TEXT: &str = "#5c5753";
const GRID: &str = "#e4e2e0";
const AXIS: &str = "#8a8580";

/// Where a bar's axis label is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tick {
    None,
    /// In the wide drawing only.
    Wide,
    /// In both drawings.
    Always,
}

/// One hour or day.
pub struct Bar {
    /// The axis label: `08:00`, `15 Jan`.
    pub tick: String,
    /// The bucket in full, for the bar's tooltip: `15 Jan 08:00`.
    pub label: String,
    pub show: Tick,
    pub counts: Counts,
}

/// What a chart shows; every text as the reader sees it.
pub struct Chart<'a> {
    /// Unique on the page; the drawing's ids start with it.
    pub id: &'a str,
    pub title: &'a str,
    pub desc: &'a str,
    /// Shown in the plot when every bar is zero.
    pub empty: &'a str,
    /// The outcomes' names, in the order of [`OUTCOMES`].
    pub outcomes: [&'a str; 8],
    pub bars: &'a [Bar],
}

/// A drawing's size in user units; the page scales it to its box (viewBox),
/// and shows the wide drawing on wide screens, the narrow one on phones.
#[derive(Clone, Copy, Debug)]
pub struct Frame {
    pub name: &'static str,
    width: f64,
    height: f64,
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
    font: f64,
    wide: bool,
}

pub const WIDE: Frame = Frame {
    name: "wide",
    width: 960.0,
    height: 320.0,
    left: 52.0,
    right: 20.0,
    top: 14.0,
    bottom: 30.0,
    font: 13.0,
    wide: true,
};

pub const NARROW: Frame = Frame {
    name: "narrow",
    width: 360.0,
    height: 300.0,
    left: 42.0,
    right: 20.0,
    top: 14.0,
    bottom: 30.0,
    font: 13.0,
    wide: false,
};

/// The y axis: its top and the step between round ticks (1, 2 or 5 times a
/// power of ten; at most five steps). An empty chart's axis ends at 0.
pub fn scale(max: i64) -> (i64, i64) {
    if max <= 0 {
        return (0, 1);
    }
    let mut magnitude: i64 = 1;
    loop {
        for m in [1, 2, 5] {
            let Some(step) = magnitude.checked_mul(m) else {
                return (max, max);
            };
            let n = max / step + i64::from(max % step != 0);
            if n <= 5 {
                return (n.saturating_mul(step), step);
            }
        }
        magnitude = match magnitude.checked_mul(10) {
            Some(m) => m,
            None => return (max, max),
        };
    }
}

/// A tick's number, short: 9000, 20k, 3M (ticks this large are round).
pub fn tick_text(v: i64) -> String {
    if v >= 1_000_000 && v % 1_000_000 == 0 {
        format!("{}M", v / 1_000_000)
    } else if v >= 10_000 && v % 1000 == 0 {
        format!("{}k", v / 1000)
    } else {
        v.to_string()
    }
}

/// Escapes text for SVG (XML) content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A bar's total (saturating: counts are far below the limit).
pub fn total(counts: &Counts) -> i64 {
    counts.iter().fold(0i64, |a, n| a.saturating_add(*n))
}

/// The chart as an `<svg>` element: `role="img"`, named by its title and
/// description, bars stacked by outcome, round ticks on the y axis and the
/// bars' labels on the x axis; a note in the plot when there is nothing.
pub fn svg(chart: &Chart<'_>, f: Frame) -> String {
    let id = escape(&format!("{}-{}", chart.id, f.name));
    let font = f.font;
    let plot_w = f.width - f.left - f.right;
    let plot_h = f.height - f.top - f.bottom;
    let base = f.top + plot_h;
    let max = chart
        .bars
        .iter()
        .map(|b| total(&b.counts))
        .max()
        .unwrap_or(0);
    let (top, step) = scale(max);
    let slot = plot_w / chart.bars.len().max(1) as f64;
    let bar_w = (slot * 0.7).max(1.0);
    let mut s = String::with_capacity(4096 + chart.bars.len() * 400);
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart-{name}\" viewBox=\"0 0 {w} {h}\" \
         role=\"img\" aria-labelledby=\"{id}-title\" aria-describedby=\"{id}-desc\" focusable=\"false\" \
         font-size=\"{font}\">\
         <title id=\"{id}-title\">{title}</title><desc id=\"{id}-desc\">{desc}</desc>",
        name = f.name,
        w = f.width,
        h = f.height,
        title = escape(chart.title),
        desc = escape(chart.desc),
    );
    // The y axis: a grid line and a label per tick.
    let mut v = 0;
    loop {
        let y = if top == 0 {
            base
        } else {
            base - v as f64 / top as f64 * plot_h
        };
        let colour = if v == 0 { AXIS } else { GRID };
        let _ = write!(
            s,
            "<line x1=\"{x1}\" x2=\"{x2}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"{colour}\" stroke-width=\"1\"/>\
             <text x=\"{tx}\" y=\"{ty:.1}\" text-anchor=\"end\" fill=\"{TEXT}\">{label}</text>",
            x1 = f.left,
            x2 = f.width - f.right,
            tx = f.left - 6.0,
            ty = y + font * 0.35,
            label = tick_text(v),
        );
        if v >= top {
            break;
        }
        v = v.saturating_add(step);
    }
    for (i, bar) in chart.bars.iter().enumerate() {
        let centre = f.left + slot * (i as f64 + 0.5);
        let shown = match bar.show {
            Tick::None => false,
            Tick::Wide => f.wide,
            Tick::Always => true,
        };
        if shown {
            let _ = write!(
                s,
                "<line x1=\"{centre:.1}\" x2=\"{centre:.1}\" y1=\"{base}\" y2=\"{y2}\" stroke=\"{AXIS}\" stroke-width=\"1\"/>\
                 <text x=\"{centre:.1}\" y=\"{ty:.1}\" text-anchor=\"middle\" fill=\"{TEXT}\">{tick}</text>",
                y2 = base + 4.0,
                ty = base + 6.0 + font,
                tick = escape(&bar.tick),
            );
        }
        let sum = total(&bar.counts);
        if sum == 0 || top == 0 {
            continue;
        }
        let parts: Vec<String> = bar
            .counts
            .iter()
            .zip(chart.outcomes)
            .filter(|(n, _)| **n > 0)
            .map(|(n, name)| format!("{name} {n}"))
            .collect();
        let _ = write!(
            s,
            "<g><title>{}: {}</title>",
            escape(&bar.label),
            escape(&parts.join(", "))
        );
        let x = centre - bar_w / 2.0;
        let mut below = 0i64;
        for ((n, outcome), colour) in bar.counts.iter().zip(OUTCOMES).zip(COLOURS) {
            if *n <= 0 {
                continue;
            }
            let y0 = base - below as f64 / top as f64 * plot_h;
            below = below.saturating_add(*n);
            let y1 = base - below as f64 / top as f64 * plot_h;
            let _ = write!(
                s,
                "<rect x=\"{x:.2}\" y=\"{y1:.3}\" width=\"{bar_w:.2}\" height=\"{h:.3}\" fill=\"{colour}\" \
                 stroke=\"#ffffff\" stroke-width=\"1\" data-outcome=\"{outcome}\" data-value=\"{n}\"/>",
                h = y0 - y1,
            );
        }
        s.push_str("</g>");
    }
    if max == 0 {
        let _ = write!(
            s,
            "<text x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"middle\" fill=\"{TEXT}\" class=\"chart-empty\">{note}</text>",
            x = f.left + plot_w / 2.0,
            y = f.top + plot_h / 2.0,
            note = escape(chart.empty),
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
#[path = "usage_chart_tests.rs"]
mod tests;

//! What the API Portal's Add New and a key's Settings page share of the key
//! policy (SPEC §10): the services as checkboxes, the allowed addresses one
//! a line, the expiry choices within the company's maximum key lifetime, and
//! a key's limits in a few words for the key list.

use ipnet::IpNet;
use serde::Deserialize;
use web::page::FormErrors;

use crate::key_policy::{allowed_list, parse_allowed_ips, ServiceCatalog};
use crate::AccountError;

/// A posted form as its (name, value) pairs, in order: the checkboxes of one
/// group (`services`) come as several pairs of one name, which a struct
/// read by `serde_urlencoded` cannot hold.
#[derive(Deserialize, Default)]
#[serde(transparent)]
pub struct FormPairs(Vec<(String, String)>);

impl FormPairs {
    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn owned(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_owned)
    }

    /// Every value of `name` (the boxes checked in a group).
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// The hidden field of a form that shows the services group: with it, no box
/// checked is a choice (refused), not a form without the group (every service).
pub const SERVICES_SHOWN: &str = "services_shown";

/// One checkbox of the services group.
pub struct ServiceBox {
    pub name: String,
    pub label: String,
    pub checked: bool,
}

/// The operator's services as checkboxes, checked as `checked` says.
pub fn service_boxes(catalog: &ServiceCatalog, checked: impl Fn(&str) -> bool) -> Vec<ServiceBox> {
    catalog
        .iter()
        .map(|s| ServiceBox {
            checked: checked(&s.name),
            name: s.name.clone(),
            label: s.label.clone(),
        })
        .collect()
}

/// The boxes as a stored key's services check them (`None`: every service).
pub fn boxes_of_key(catalog: &ServiceCatalog, stored: Option<&str>) -> Vec<ServiceBox> {
    service_boxes(catalog, |name| {
        stored.is_none_or(|s| s.split_ascii_whitespace().any(|n| n == name))
    })
}

/// The boxes as a posted form checked them (all of them when it showed none).
pub fn boxes_of_form(catalog: &ServiceCatalog, form: &FormPairs) -> Vec<ServiceBox> {
    match services_of_form(catalog, form) {
        None => service_boxes(catalog, |_| true),
        Some(names) => service_boxes(catalog, |name| names.iter().any(|n| n == name)),
    }
}

/// The services a form asks for: `None` (every service, also those the
/// operator adds later) when it showed no services group or every box is
/// checked; else the names checked (none: the domain refuses it).
pub fn services_of_form(catalog: &ServiceCatalog, form: &FormPairs) -> Option<Vec<String>> {
    form.get(SERVICES_SHOWN)?;
    let checked = form.all("services");
    let every = catalog.iter().all(|s| checked.contains(&s.name));
    (!every).then_some(checked)
}

/// The allowed addresses of the textarea: one a line (spaces and commas
/// separate too); none is any address.
pub fn ips_of_text(text: &str) -> Option<Vec<String>> {
    let list: Vec<String> = text
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    (!list.is_empty()).then_some(list)
}

/// The refusals of a form's name, addresses and services at once, each
/// beside its field (the domain stops at the first; it checks them again).
pub fn field_errors(
    catalog: &ServiceCatalog,
    name: Option<&str>,
    ips: Option<&[String]>,
    services: Option<&[String]>,
) -> FormErrors {
    let mut errors = FormErrors::default();
    let refusals = [
        name.and_then(|n| crate::fields::text_field(n, "name", 100).err()),
        parse_allowed_ips(ips).err(),
        catalog.parse_services(services).err(),
    ];
    for fe in refusals.iter().flatten().filter_map(AccountError::field) {
        errors.add(fe.field, fe.msg);
    }
    errors
}

/// A key's stored addresses as the textarea shows them: one a line, a
/// single address without its `/32` or `/128`.
pub fn ips_text(stored: Option<&str>) -> String {
    allowed_list(stored)
        .into_iter()
        .map(|n| match n.parse::<IpNet>() {
            Ok(net) if net.prefix_len() == net.max_prefix_len() => net.addr().to_string(),
            _ => n,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The labels of a key's services, `", "` between them (empty: every service).
pub fn service_labels(catalog: &ServiceCatalog, stored: Option<&str>) -> String {
    let Some(stored) = stored else {
        return String::new();
    };
    stored
        .split_ascii_whitespace()
        .map(|n| catalog.get(n).map_or(n, |s| s.label.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One choice of the expiry select: its value and its label (a catalog key;
/// the company's maximum takes `{n}` days).
pub struct ExpiryChoice {
    pub value: String,
    pub label: &'static str,
    pub days: String,
}

const FIXED_DAYS: [(i64, &str); 3] = [(30, "expiry.30"), (90, "expiry.90"), (365, "expiry.365")];

/// The expiry choices Add New offers: with a maximum key lifetime only
/// those within it (the maximum itself among them, no "never").
pub fn expiry_choices(max_days: Option<i64>) -> Vec<ExpiryChoice> {
    let choice = |value: String, label, days: String| ExpiryChoice { value, label, days };
    let mut out: Vec<ExpiryChoice> = FIXED_DAYS
        .iter()
        .filter(|(d, _)| max_days.is_none_or(|m| *d <= m))
        .map(|(d, label)| choice(d.to_string(), *label, d.to_string()))
        .collect();
    if let Some(m) = max_days.filter(|m| !FIXED_DAYS.iter().any(|(d, _)| d == m)) {
        let at = out
            .iter()
            .position(|c| c.days.parse::<i64>().is_ok_and(|d| d > m));
        let max = choice(m.to_string(), "expiry.max", m.to_string());
        out.insert(at.unwrap_or(out.len()), max);
    }
    out.push(choice("custom".into(), "expiry.custom", String::new()));
    if max_days.is_none() {
        out.push(choice("never".into(), "expiry.never", String::new()));
    }
    out
}

/// The choice selected at first: a year, or the longest the company allows.
pub fn default_expiry(max_days: Option<i64>) -> String {
    match max_days {
        Some(m) if m < 365 => m.to_string(),
        _ => "365".into(),
    }
}

/// The last date (`YYYY-MM-DD`) a key may expire on within `max_days` from
/// `now` (the form's date is the end of that day, UTC); empty without a limit.
pub fn last_date(max_days: Option<i64>, now: i64) -> String {
    let Some(m) = max_days else {
        return String::new();
    };
    let day = (now + m * 86400 - 86399).div_euclid(86400) * 86400;
    web::clock::rfc3339(day)
        .get(..10)
        .unwrap_or_default()
        .to_owned()
}

/// The expiry of the form: days from now (a fixed choice or the company's
/// maximum), a date (end of that day, UTC), or never.
pub fn expiry_of_form(
    choice: &str,
    date: Option<&str>,
    now: i64,
    max_days: Option<i64>,
) -> Result<Option<i64>, &'static str> {
    match choice {
        "never" => Ok(None),
        "custom" => {
            let d = date
                .map(str::trim)
                .filter(|d| !d.is_empty())
                .ok_or("error.expiry_format")?;
            let ts = web::clock::parse_rfc3339_checked(&format!("{d}T23:59:59Z"))
                .map_err(crate::api_keys::expiry_error)?;
            Ok(Some(ts))
        }
        days => {
            let n: i64 = days.parse().map_err(|_| "error.expiry_format")?;
            if !FIXED_DAYS.iter().any(|(d, _)| *d == n) && max_days != Some(n) {
                return Err("error.expiry_format");
            }
            Ok(Some(now + n * 86400))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(p: &[(&str, &str)]) -> FormPairs {
        FormPairs(
            p.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn services_follow_the_boxes() {
        let c = ServiceCatalog::parse(&["billing=Billing"]).unwrap();
        assert_eq!(services_of_form(&c, &pairs(&[("name", "x")])), None);
        let shown = |checked: &[&str]| {
            let mut p = vec![(SERVICES_SHOWN, "1")];
            p.extend(checked.iter().map(|n| ("services", *n)));
            services_of_form(&c, &pairs(&p))
        };
        assert_eq!(shown(&[]), Some(vec![]));
        assert_eq!(shown(&["billing"]), Some(vec!["billing".to_owned()]));
        assert_eq!(shown(&["billing", "amazon_sales_channel"]), None);
        let boxes = boxes_of_key(&c, Some("billing"));
        assert!(!boxes[0].checked && boxes[1].checked);
        assert_eq!(
            service_labels(&c, Some("amazon_sales_channel billing")),
            "Amazon Sales Channel, Billing"
        );
    }

    #[test]
    fn addresses_one_a_line() {
        assert_eq!(ips_of_text(" \n\r\n"), None);
        assert_eq!(
            ips_of_text("203.0.113.7\r\n2001:db8::/32, 10.0.0.0/8\n"),
            Some(vec![
                "203.0.113.7".into(),
                "2001:db8::/32".into(),
                "10.0.0.0/8".into()
            ])
        );
        assert_eq!(
            ips_text(Some("203.0.113.7/32 2001:db8::/32 ::1/128")),
            "203.0.113.7\n2001:db8::/32\n::1"
        );
        assert_eq!(ips_text(None), "");
    }

    #[test]
    fn expiry_within_the_lifetime() {
        let values = |m| {
            expiry_choices(m)
                .into_iter()
                .map(|c| c.value)
                .collect::<Vec<_>>()
        };
        assert_eq!(values(None), ["30", "90", "365", "custom", "never"]);
        assert_eq!(values(Some(90)), ["30", "90", "custom"]);
        assert_eq!(values(Some(60)), ["30", "60", "custom"]);
        assert_eq!(values(Some(10)), ["10", "custom"]);
        assert_eq!(values(Some(400)), ["30", "90", "365", "400", "custom"]);
        assert_eq!(default_expiry(Some(60)), "60");
        assert_eq!(default_expiry(Some(400)), "365");
        assert_eq!(
            expiry_of_form("60", None, 0, Some(60)),
            Ok(Some(60 * 86400))
        );
        assert!(expiry_of_form("60", None, 0, None).is_err());
        assert!(expiry_of_form("7", None, 0, Some(60)).is_err());
        // 1970-01-01 00:00 with 2 days: the end of 1970-01-02 is within them.
        assert_eq!(last_date(Some(2), 0), "1970-01-02");
        assert_eq!(last_date(None, 0), "");
    }
}

//! `sitemap.xml` and `robots.txt`.

use std::fmt::Write;

use crate::build::Site;

fn escape_xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub fn sitemap(site: &Site) -> String {
    let base = &site.config.base_url;
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    let mut entries: Vec<(String, Option<chrono::NaiveDate>)> = site
        .documents()
        .map(|(doc, _, _)| (doc.path.url(), doc.meta.last_updated()))
        .chain(
            site.listings
                .iter()
                .filter(|l| !l.is_section_page())
                .map(|l| (l.url(), None)),
        )
        .collect();
    entries.sort();
    for (url, updated) in entries {
        let _ = write!(
            xml,
            "  <url><loc>{}</loc>",
            escape_xml(&format!("{base}{url}"))
        );
        if let Some(day) = updated {
            let _ = write!(xml, "<lastmod>{day}</lastmod>");
        }
        xml.push_str("</url>\n");
    }
    xml.push_str("</urlset>\n");
    xml
}

pub fn robots(site: &Site) -> String {
    format!(
        "User-agent: *\nAllow: /\n\nSitemap: {}/sitemap.xml\n",
        site.config.base_url
    )
}

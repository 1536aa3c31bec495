//! A notice printed as an A4 lobby poster: the print stylesheet lays the
//! page out; this adds what a poster needs beyond the page, the estate's
//! name, the desk's phone and a QR code to the notice online.

use qrcode::QrCode;
use qrcode::render::svg;
use serde::Serialize;

use crate::build::Site;

#[derive(Debug, Clone, Serialize)]
pub struct PosterView {
    pub estate: String,
    pub desk_phone: Option<String>,
    /// The notice's absolute address, which the QR code encodes.
    pub url: String,
    /// The QR code as inline SVG, one unit per module.
    pub qr_svg: String,
}

/// The estate's name on posters: `estate.name` of `estate.yaml`, else the
/// site's title.
const ESTATE_NAME: &str = "estate.name";

impl PosterView {
    pub fn new(site: &Site, url: String) -> Result<PosterView, qrcode::types::QrError> {
        let facts = &site.config.facts;
        Ok(PosterView {
            estate: facts
                .get(ESTATE_NAME)
                .map(|f| f.display())
                .unwrap_or_else(|| site.config.title.clone()),
            desk_phone: site.config.contact.phone.clone(),
            qr_svg: qr_svg(&url)?,
            url,
        })
    }
}

/// `text` as a QR code in SVG, without the XML declaration, to inline in
/// HTML. Medium error correction survives a creased or smudged poster.
pub fn qr_svg(text: &str) -> Result<String, qrcode::types::QrError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)?;
    let image = code
        .render::<svg::Color>()
        .module_dimensions(1, 1)
        .quiet_zone(true)
        .build();
    Ok(match image.find("<svg") {
        Some(start) => image[start..].to_owned(),
        None => image,
    })
}

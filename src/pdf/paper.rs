//! The paper: A4 portrait in millimetres, and how lengths become PDF points (shared by the drawing
//! surface and the shared line-work forms, so neither depends on the other for them).

/// A4 portrait, in millimetres.
pub(super) const PAGE_W: f32 = 210.0;
pub(super) const PAGE_H: f32 = 297.0;

pub(super) const PT_PER_MM: f32 = 72.0 / 25.4;

pub(super) fn round(v: f32) -> f32 {
    (v * 10.0).round() / 10.0
}

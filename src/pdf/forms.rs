//! Line work shared between pages as form XObjects.

use std::collections::{BTreeMap, HashMap};

use printpdf::{DictItem, ExternalStream, ExternalXObject, PdfDocument, XObject, XObjectId};

use super::paper::{round, PAGE_H, PAGE_W, PT_PER_MM};

/// The pages' line work (rules, boxes, fills) as form XObjects: pages of the same layout share
/// one, drawn with a single `Do`, instead of repeating it in every page's content.
#[derive(Default)]
pub(super) struct Forms {
    ids: HashMap<String, XObjectId>,
}

impl Forms {
    /// The id of the form drawing `ops` (raw PDF graphics operators).
    pub(super) fn id(&mut self, ops: String) -> XObjectId {
        let next = self.ids.len() + 1;
        self.ids
            .entry(ops)
            .or_insert_with(|| XObjectId(format!("G{next}")))
            .clone()
    }

    /// Adds the forms to the document's shared resources.
    pub(super) fn register(self, doc: &mut PdfDocument) {
        let real = |v: f32| DictItem::Real(round(v));
        for (ops, id) in self.ids {
            let dict = BTreeMap::from([
                ("Type".to_string(), DictItem::Name(b"XObject".to_vec())),
                ("Subtype".to_string(), DictItem::Name(b"Form".to_vec())),
                ("FormType".to_string(), DictItem::Int(1)),
                (
                    "BBox".to_string(),
                    DictItem::Array(vec![
                        real(0.0),
                        real(0.0),
                        real(PAGE_W * PT_PER_MM),
                        real(PAGE_H * PT_PER_MM),
                    ]),
                ),
            ]);
            let form = ExternalXObject {
                stream: ExternalStream {
                    dict,
                    content: ops.into_bytes(),
                    compress: true,
                },
                width: None,
                height: None,
                dpi: None,
            };
            doc.resources
                .xobjects
                .map
                .insert(id, XObject::External(form));
        }
    }
}

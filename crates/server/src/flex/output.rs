//! Where a Flex statement is written: IBKR's XML, or CSV.
//!
//! The CSV holds the same elements as the XML, one record each: the element's name, then
//! `HEADER` and its attribute names (once per section), or `DATA` and their values, so that a
//! reader tells sections and records apart as IBKR's "section code and line descriptor" CSV
//! option allows. Column names are the XML's attribute names.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, Event};

/// One element's attributes, in order.
pub(crate) type Attributes = Vec<(&'static str, String)>;

/// What writing returns; writing into memory does not fail.
pub(crate) type Written = std::io::Result<()>;

/// A statement being written.
pub(crate) enum Output {
    /// `FlexQueryResponse` XML, indented.
    Xml(Writer<Vec<u8>>),
    /// CSV records.
    Csv(Box<csv::Writer<Vec<u8>>>),
}

impl Output {
    /// An empty XML document.
    pub(crate) fn xml() -> Self {
        Self::Xml(Writer::new_with_indent(Vec::new(), b' ', 1))
    }

    /// An empty CSV document.
    pub(crate) fn csv() -> Self {
        Self::Csv(Box::new(csv::WriterBuilder::new().flexible(true).from_writer(Vec::new())))
    }

    /// The document's text.
    pub(crate) fn finish(self) -> String {
        let bytes = match self {
            Self::Xml(writer) => writer.into_inner(),
            Self::Csv(writer) => writer.into_inner().unwrap_or_default(),
        };
        String::from_utf8(bytes).unwrap_or_default()
    }

    /// Opens element `name` (with `attributes`), which holds others until [`Output::close`].
    pub(crate) fn open(&mut self, name: &str, attributes: &Attributes) -> Written {
        match self {
            Self::Xml(writer) => {
                if name == "FlexQueryResponse" {
                    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
                }
                writer.write_event(Event::Start(element(name, attributes)))
            }
            Self::Csv(_) if attributes.is_empty() => Ok(()),
            Self::Csv(writer) => records(writer, name, std::slice::from_ref(attributes)),
        }
    }

    /// Closes element `name`.
    pub(crate) fn close(&mut self, name: &str) -> Written {
        match self {
            Self::Xml(writer) => writer.write_event(Event::End(BytesEnd::new(name))),
            Self::Csv(_) => Ok(()),
        }
    }

    /// One element without children.
    pub(crate) fn single(&mut self, name: &str, attributes: Attributes) -> Written {
        match self {
            Self::Xml(writer) => writer.write_event(Event::Empty(element(name, &attributes))),
            Self::Csv(writer) => records(writer, name, &[attributes]),
        }
    }

    /// A container of data elements, as ibflex reads them.
    pub(crate) fn section(&mut self, container: &str, name: &str, rows: Vec<Attributes>) -> Written {
        match self {
            Self::Xml(writer) if rows.is_empty() => {
                writer.write_event(Event::Empty(BytesStart::new(container)))
            }
            Self::Xml(writer) => {
                writer.write_event(Event::Start(BytesStart::new(container)))?;
                for row in &rows {
                    writer.write_event(Event::Empty(element(name, row)))?;
                }
                writer.write_event(Event::End(BytesEnd::new(container)))
            }
            Self::Csv(writer) => records(writer, name, &rows),
        }
    }
}

fn element<'a>(name: &'a str, attributes: &'a [(&'static str, String)]) -> BytesStart<'a> {
    BytesStart::new(name).with_attributes(attributes.iter().map(|(key, value)| (*key, value.as_str())))
}

/// A header record of every attribute name `rows` use, then a data record per row.
fn records(writer: &mut csv::Writer<Vec<u8>>, name: &str, rows: &[Attributes]) -> Written {
    let mut columns: Vec<&str> = Vec::new();
    for (key, _) in rows.iter().flatten() {
        if !columns.contains(key) {
            columns.push(key);
        }
    }
    if columns.is_empty() {
        return Ok(());
    }
    writer.write_record([name, "HEADER"].into_iter().chain(columns.iter().copied()))?;
    for row in rows {
        let value =
            |column: &&str| row.iter().find(|(key, _)| key == column).map_or("", |(_, value)| value.as_str());
        writer.write_record([name, "DATA"].into_iter().chain(columns.iter().map(value)))?;
    }
    Ok(())
}

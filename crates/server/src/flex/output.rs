//! Where a Flex statement is written: IBKR's XML, or CSV.
//!
//! The CSV holds the same elements as the XML, one record each: the element's name, then
//! `HEADER` and its attribute names (once per section), or `DATA` and their values, so that a
//! reader tells sections and records apart as IBKR's "section code and line descriptor" CSV
//! option allows. Column names are the XML's attribute names.

use engine::flex::Format;
use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, Event};

/// One element's attributes, in order.
pub(crate) type Attributes = Vec<(&'static str, String)>;

/// What writing returns.
pub(crate) type Written = std::io::Result<()>;

/// A statement being written, a part at a time: what each part writes is taken away to its
/// file before the next.
pub(crate) enum Output {
    /// `FlexQueryResponse` XML, indented.
    Xml(Writer<Vec<u8>>),
    /// CSV records.
    Csv(Box<csv::Writer<Vec<u8>>>),
}

/// A section whose rows are written one at a time, as they are read: the sections as long as
/// the trades, which are never held whole.
#[derive(Debug)]
pub(crate) struct Streamed {
    container: &'static str,
    name: &'static str,
    /// The columns, once the first row is written.
    columns: Option<Vec<&'static str>>,
}

impl Streamed {
    /// A section `container` of `name` elements, nothing written yet.
    pub(crate) fn new(container: &'static str, name: &'static str) -> Self {
        Self { container, name, columns: None }
    }
}

impl std::fmt::Debug for Output {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            Self::Xml(_) => "Output::Xml",
            Self::Csv(_) => "Output::Csv",
        })
    }
}

fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new().flexible(true).from_writer(Vec::new())
}

impl Output {
    /// An empty document of `format`.
    pub(crate) fn new(format: Format) -> Self {
        match format {
            Format::Xml => Self::Xml(Writer::new_with_indent(Vec::new(), b' ', 1)),
            Format::Csv => Self::Csv(Box::new(csv_writer())),
        }
    }

    /// What was written since it was last taken. The XML writer keeps its indentation; CSV
    /// records stand alone, so a new CSV writer carries on.
    pub(crate) fn take(&mut self) -> std::io::Result<Vec<u8>> {
        match self {
            Self::Xml(writer) => Ok(std::mem::take(writer.get_mut())),
            Self::Csv(writer) => {
                let written = std::mem::replace(writer.as_mut(), csv_writer());
                written.into_inner().map_err(|error| error.into_error())
            }
        }
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

    /// The next row of a streamed section. Its rows have the same attributes, so the first
    /// row's names are the CSV header.
    pub(crate) fn row(&mut self, section: &mut Streamed, row: &Attributes) -> Written {
        let first = section.columns.is_none();
        let columns = section.columns.get_or_insert_with(|| row.iter().map(|(key, _)| *key).collect());
        match self {
            Self::Xml(writer) => {
                if first {
                    writer.write_event(Event::Start(BytesStart::new(section.container)))?;
                }
                writer.write_event(Event::Empty(element(section.name, row)))
            }
            Self::Csv(writer) => {
                if first {
                    header(writer, section.name, columns)?;
                }
                data(writer, section.name, columns, row)
            }
        }
    }

    /// Ends a streamed section.
    pub(crate) fn end(&mut self, section: Streamed) -> Written {
        match self {
            Self::Xml(writer) if section.columns.is_none() => {
                writer.write_event(Event::Empty(BytesStart::new(section.container)))
            }
            Self::Xml(writer) => writer.write_event(Event::End(BytesEnd::new(section.container))),
            Self::Csv(_) => Ok(()),
        }
    }
}

fn element<'a>(name: &'a str, attributes: &'a [(&'static str, String)]) -> BytesStart<'a> {
    BytesStart::new(name).with_attributes(attributes.iter().map(|(key, value)| (*key, value.as_str())))
}

/// A header record of every attribute name `rows` use, then a data record per row.
fn records(writer: &mut csv::Writer<Vec<u8>>, name: &str, rows: &[Attributes]) -> Written {
    let mut columns: Vec<&'static str> = Vec::new();
    for (key, _) in rows.iter().flatten() {
        if !columns.contains(key) {
            columns.push(key);
        }
    }
    if columns.is_empty() {
        return Ok(());
    }
    header(writer, name, &columns)?;
    rows.iter().try_for_each(|row| data(writer, name, &columns, row))
}

fn header(writer: &mut csv::Writer<Vec<u8>>, name: &str, columns: &[&str]) -> Written {
    Ok(writer.write_record([name, "HEADER"].into_iter().chain(columns.iter().copied()))?)
}

/// A data record of `row`'s values in the order of `columns`, blank where it has none.
fn data(writer: &mut csv::Writer<Vec<u8>>, name: &str, columns: &[&str], row: &Attributes) -> Written {
    let value =
        |column: &&str| row.iter().find(|(key, _)| key == column).map_or("", |(_, value)| value.as_str());
    Ok(writer.write_record([name, "DATA"].into_iter().chain(columns.iter().map(value)))?)
}

//! What a page's wasm and its JS glue share, made smaller after wasm-bindgen.
//!
//! Classes no code can make ([`drop_unmade_classes`]). wasm-bindgen writes a JS class for each
//! Rust type a linked crate exports, used or not: Leptos always links server functions' browser
//! support, and with it three stream adapters of wasm-streams. An instance of such a class comes
//! only from its constructor, or from its `__wrap` when Rust hands one to JS. A class with
//! neither (and no static method) can have no instance, so none of its methods ever runs: it
//! leaves the glue, and the wasm exports only it called leave the wasm. Before the split, those
//! exports are pointed at functions that only trap ([`unroot_exports`]): the code only they
//! reached, and the table slots of its closures, are then left out by the split, where
//! dropping the exports after it left them (every table slot is a root once the table is
//! shared with the chunks).
//!
//! Names ([`shorten_names`]). wasm-bindgen names each import after the function and a hash
//! (`__wbg_value_df0a0e29a4d182fe`), under the module `./<stem>_bg.js`, and some exports after
//! their mangled Rust path. Minifiers leave these
//! alone (they are keys and properties), so both files shipped every one of them in full: in
//! the checkout, 156 imports took 11.5 KB of the wasm, and their keys 4.9 KB of the glue.
//!
//! A name is shortened only where the glue shows every use of it: an import is renamed when
//! its one occurrence in the glue is its key in the imports object, an export when every
//! occurrence is a `wasm.NAME` property read (or a glue function of the same spelling) and the
//! chunks' loader does not name it. Anything else keeps its name.

use std::collections::{BTreeMap, BTreeSet};
use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{ExportSection, ImportSection, RawSection, Section};
use wasmparser::{Imports, Parser, Payload};

/// The page's wasm and glue with their shared names shortened. `module` is the import module
/// wasm-bindgen gave the glue's functions (`./<stem>_bg.js`); `loader` is the text of the
/// chunks' loader, whose names of the wasm's exports stay as they are.
pub fn shorten_names(
    wasm: &[u8],
    glue: &str,
    module: &str,
    loader: &str,
) -> Result<(Vec<u8>, String), String> {
    let mut boundary = Boundary::read(wasm)?;
    let mut edits: Vec<(usize, usize, String)> = Vec::new();

    let module_key = format!("\"{module}\"");
    let a_taken = boundary.imports.iter().any(|import| import.module == "a");
    let new_module = match glue.match_indices(&module_key).collect::<Vec<_>>()[..] {
        [(at, _)] if !a_taken => {
            edits.push((at, module_key.len(), "\"a\"".to_string()));
            Some("a")
        }
        _ => None,
    };

    // Each name once: a function imported twice under one name has one key in the glue.
    let mut import_names: Vec<&str> = Vec::new();
    for import in boundary.imports.iter().filter(|i| i.module == module) {
        if !import_names.contains(&import.name.as_str()) {
            import_names.push(&import.name);
        }
    }
    let mut import_renames = BTreeMap::new();
    let mut short_imports = ShortNames::avoiding(&import_names);
    for name in &import_names {
        if let [at] = identifier_uses(glue, name)[..] {
            if glue[at + name.len()..].starts_with(':') {
                let short = short_imports.next_name();
                edits.push((at, name.len(), short.clone()));
                import_renames.insert(name.to_string(), short);
            }
        }
    }

    let export_names: Vec<&str> = boundary.exports.iter().map(|e| e.name.as_str()).collect();
    let mut export_renames = BTreeMap::new();
    let mut short_exports = ShortNames::avoiding(&export_names);
    for name in &export_names {
        if !identifier_uses(loader, name).is_empty() {
            continue;
        }
        let uses = identifier_uses(glue, name);
        let reads: Vec<usize> = uses
            .iter()
            .copied()
            .filter(|&at| glue[..at].ends_with("wasm."))
            .collect();
        let only_reads_or_glue_functions = uses
            .iter()
            .all(|&at| reads.contains(&at) || !glue[..at].ends_with(['.', '"', '\'', '`', '[']));
        if reads.is_empty() || !only_reads_or_glue_functions {
            continue;
        }
        let short = short_exports.next_name();
        edits.extend(reads.iter().map(|&at| (at, name.len(), short.clone())));
        export_renames.insert(name.to_string(), short);
    }

    for import in boundary.imports.iter_mut().filter(|i| i.module == module) {
        if let Some(short) = import_renames.get(&import.name) {
            import.name = short.clone();
        }
        if let Some(new_module) = new_module {
            import.module = new_module.to_string();
        }
    }
    for export in &mut boundary.exports {
        if let Some(short) = export_renames.get(&export.name) {
            export.name = short.clone();
        }
    }
    Ok((boundary.written(wasm)?, edited(glue, edits)))
}

/// The page's wasm and glue without the classes no code can make (see the module's doc).
/// `loader` is the text of the chunks' loader: an export it names stays.
pub fn drop_unmade_classes(
    wasm: &[u8],
    glue: &str,
    loader: &str,
) -> Result<(Vec<u8>, String), String> {
    let (glue, freed) = without_unmade_classes(glue);
    let mut boundary = Boundary::read(wasm)?;
    boundary.exports.retain(|export| {
        !freed.contains(&export.name) || !identifier_uses(loader, &export.name).is_empty()
    });
    Ok((boundary.written(wasm)?, glue))
}

/// The exports only the classes no code can make call, as the glue wasm-bindgen wrote for the
/// wasm shows them.
pub fn unmade_class_exports(glue: &str) -> BTreeSet<String> {
    without_unmade_classes(glue).1
}

/// The glue without the classes no code can make, and the exports only they called.
fn without_unmade_classes(glue: &str) -> (String, BTreeSet<String>) {
    let mut glue = glue.to_string();
    let mut freed: BTreeSet<String> = BTreeSet::new();
    for class in exported_classes(&glue) {
        let Some(mut parts) = unmade_class_text(&glue, &class) else {
            continue;
        };
        parts.sort_by_key(|part| std::cmp::Reverse(part.start));
        let mut rest = glue.clone();
        let mut removed = String::new();
        for part in parts {
            removed.push_str(&rest[part.clone()]);
            rest.replace_range(part, "");
        }
        let finalization = format!("{class}Finalization");
        if !identifier_uses(&rest, &class).is_empty()
            || !identifier_uses(&rest, &finalization).is_empty()
        {
            continue;
        }
        freed.extend(wasm_reads(&removed));
        glue = rest;
    }
    let still_read = wasm_reads(&glue);
    freed.retain(|name| !still_read.contains(name));
    (glue, freed)
}

/// The linked wasm with each function export in `names` pointed at a new function of its type
/// that only traps, and how many were. The exports stay, so wasm-bindgen finds every one it
/// writes glue for; but nothing roots the code only they reached any more, so the split (which
/// keeps what the exports reach through the code's relocations, and gives a table slot only to
/// a function something kept takes the address of) leaves all of it out. Used for the exports
/// of classes no code can make, whose glue goes after wasm-bindgen and which nothing calls.
///
/// The new functions go after the others, so no function index, and no offset the code's
/// relocations name, moves; when the code section's count would take another byte (and move
/// every offset), the wasm is returned as it was.
pub fn unroot_exports(wasm: &[u8], names: &BTreeSet<String>) -> Result<(Vec<u8>, usize), String> {
    let mut boundary = Boundary::read(wasm)?;
    let first_new = boundary.function_types.len();
    let mut unrooted = 0;
    for export in &mut boundary.exports {
        if export.kind != wasmparser::ExternalKind::Func
            || !names.contains(without_symbol_hash(&export.name))
        {
            continue;
        }
        let Some(&ty) = boundary.function_types.get(export.index as usize) else {
            continue;
        };
        let trap = match boundary.traps.iter().position(|&t| t == ty) {
            Some(at) => at,
            None => {
                boundary.traps.push(ty);
                boundary.traps.len() - 1
            }
        };
        export.index = u32::try_from(first_new + trap).map_err(|e| e.to_string())?;
        unrooted += 1;
    }
    let defined = first_new - boundary.imported_functions;
    if leb_len(defined) != leb_len(defined + boundary.traps.len()) {
        return Ok((wasm.to_vec(), 0));
    }
    Ok((boundary.written(wasm)?, unrooted))
}

/// An export's name as the glue knows it: the linked wasm names wasm-bindgen's exports after
/// their symbols, with an underscore and 16 hex digits that wasm-bindgen takes off.
fn without_symbol_hash(name: &str) -> &str {
    match name.rsplit_once('_') {
        Some((glue_name, hash))
            if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            glue_name
        }
        _ => name,
    }
}

/// Bytes of `n` as an unsigned LEB128.
fn leb_len(n: usize) -> usize {
    let mut len = 1;
    let mut rest = n >> 7;
    while rest > 0 {
        len += 1;
        rest >>= 7;
    }
    len
}

/// `n` as an unsigned LEB128.
fn leb(mut n: usize, out: &mut Vec<u8>) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// A section's entries after its leading count, and the count.
fn counted(content: &[u8]) -> Result<(usize, &[u8]), String> {
    let mut reader = wasmparser::BinaryReader::new(content, 0);
    let count = reader
        .read_var_u32()
        .map_err(|e| format!("reading a count: {e}"))?;
    let rest = content
        .get(reader.current_position()..)
        .ok_or("a section shorter than its count")?;
    Ok((count as usize, rest))
}

/// The classes the glue exports (`export class NAME {`).
fn exported_classes(glue: &str) -> Vec<String> {
    glue.lines()
        .filter_map(|line| line.strip_prefix("export class "))
        .filter_map(|rest| rest.split([' ', '{']).next())
        .map(str::to_string)
        .collect()
}

/// Where `class` is written in the glue, when nothing in it can make one: its block (closed by
/// a `}` in the first column, as wasm-bindgen writes it) with the `Symbol.dispose` line after
/// it, and its `FinalizationRegistry`. `None` when the class has a constructor or a static
/// method (`__wrap`, by which Rust hands one to JS, is one).
fn unmade_class_text(glue: &str, class: &str) -> Option<Vec<std::ops::Range<usize>>> {
    let start = glue.find(&format!("export class {class} {{\n"))?;
    let block_end = start + glue[start..].find("\n}\n")? + "\n}\n".len();
    let block = &glue[start..block_end];
    if block.contains("constructor(") || block.contains("static ") {
        return None;
    }
    let dispose = format!("if (Symbol.dispose) {class}.prototype");
    let end = if glue[block_end..].starts_with(&dispose) {
        block_end + glue[block_end..].find('\n')? + 1
    } else {
        block_end
    };
    let mut parts = Vec::new();
    parts.push(start..end);
    if let Some(registry) = glue.find(&format!("const {class}Finalization = ")) {
        parts.push(registry..registry + glue[registry..].find(";\n")? + ";\n".len());
    }
    Some(parts)
}

/// The exports `text` reads as `wasm.NAME`.
fn wasm_reads(text: &str) -> BTreeSet<String> {
    text.match_indices("wasm.")
        .filter(|(at, _)| !text[..*at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_'))
        .map(|(at, read)| {
            text[at + read.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '$')
                .collect::<String>()
        })
        .filter(|name| !name.is_empty())
        .collect()
}

/// One import of the wasm, as it names it.
struct Import {
    module: String,
    name: String,
    ty: wasmparser::TypeRef,
}

/// One export of the wasm.
struct Export {
    name: String,
    kind: wasmparser::ExternalKind,
    index: u32,
}

/// The wasm's imports and exports, its functions' types, and where its sections are.
struct Boundary {
    imports: Vec<Import>,
    exports: Vec<Export>,
    /// The type index of each function, imported ones first, by function index.
    function_types: Vec<u32>,
    imported_functions: usize,
    /// The types of functions that only trap, to be written after the others.
    traps: Vec<u32>,
    sections: Vec<(u8, std::ops::Range<usize>)>,
}

impl Boundary {
    fn read(wasm: &[u8]) -> Result<Boundary, String> {
        let mut boundary = Boundary {
            imports: Vec::new(),
            exports: Vec::new(),
            function_types: Vec::new(),
            imported_functions: 0,
            traps: Vec::new(),
            sections: Vec::new(),
        };
        for payload in Parser::new(0).parse_all(wasm) {
            let payload = payload.map_err(|e| format!("reading the wasm: {e}"))?;
            match &payload {
                Payload::ImportSection(reader) => {
                    for group in reader.clone() {
                        match group.map_err(|e| format!("reading an import: {e}"))? {
                            Imports::Single(_, import) => {
                                if let wasmparser::TypeRef::Func(ty) = import.ty {
                                    boundary.function_types.push(ty);
                                    boundary.imported_functions += 1;
                                }
                                boundary.imports.push(Import {
                                    module: import.module.to_string(),
                                    name: import.name.to_string(),
                                    ty: import.ty,
                                });
                            }
                            _ => return Err("the wasm uses compact imports".to_string()),
                        }
                    }
                }
                Payload::FunctionSection(reader) => {
                    for ty in reader.clone() {
                        let ty = ty.map_err(|e| format!("reading a function: {e}"))?;
                        boundary.function_types.push(ty);
                    }
                }
                Payload::ExportSection(reader) => {
                    for export in reader.clone() {
                        let export = export.map_err(|e| format!("reading an export: {e}"))?;
                        boundary.exports.push(Export {
                            name: export.name.to_string(),
                            kind: export.kind,
                            index: export.index,
                        });
                    }
                }
                _ => {}
            }
            if let Some(section) = payload.as_section() {
                boundary.sections.push(section);
            }
        }
        Ok(boundary)
    }

    /// The wasm with its import and export sections written anew as they now are; every other
    /// section is copied byte for byte.
    fn written(&self, wasm: &[u8]) -> Result<Vec<u8>, String> {
        let mut imports = ImportSection::new();
        for import in &self.imports {
            let ty = RoundtripReencoder
                .entity_type(import.ty)
                .map_err(|e| format!("import {}: {e}", import.name))?;
            imports.import(&import.module, &import.name, ty);
        }
        let mut exports = ExportSection::new();
        for export in &self.exports {
            exports.export(
                &export.name,
                RoundtripReencoder
                    .export_kind(export.kind)
                    .map_err(|e| format!("export {}: {e}", export.name))?,
                export.index,
            );
        }

        let mut out = wasm[..8].to_vec();
        for (id, range) in &self.sections {
            let content = &wasm[range.clone()];
            match *id {
                2 => imports.append_to(&mut out),
                7 => exports.append_to(&mut out),
                3 | 10 if !self.traps.is_empty() => {
                    let (count, entries) = counted(content)?;
                    let mut data = Vec::new();
                    leb(count + self.traps.len(), &mut data);
                    data.extend_from_slice(entries);
                    for &ty in &self.traps {
                        if *id == 3 {
                            leb(ty as usize, &mut data);
                        } else {
                            // Three bytes: no locals, `unreachable`, `end`.
                            data.extend_from_slice(&[3, 0, 0x00, 0x0b]);
                        }
                    }
                    RawSection {
                        id: *id,
                        data: &data,
                    }
                    .append_to(&mut out);
                }
                id => RawSection { id, data: content }.append_to(&mut out),
            }
        }
        Ok(out)
    }
}

/// Where `name` occurs in `text` as a whole identifier (not inside a longer one).
fn identifier_uses(text: &str, name: &str) -> Vec<usize> {
    let is_identifier = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$';
    text.match_indices(name)
        .map(|(at, _)| at)
        .filter(|&at| {
            !text[..at].ends_with(is_identifier)
                && !text[at + name.len()..].starts_with(is_identifier)
        })
        .collect()
}

/// `text` with each edit (where, how long, what instead) made; edits do not overlap.
fn edited(text: &str, mut edits: Vec<(usize, usize, String)>) -> String {
    edits.sort_by_key(|(at, _, _)| std::cmp::Reverse(*at));
    let mut text = text.to_string();
    for (at, len, new) in edits {
        text.replace_range(at..at + len, &new);
    }
    text
}

/// Short names (`a`, `b`, … `Z`, `ba`, …) that are none of the names already in use.
struct ShortNames {
    taken: BTreeSet<String>,
    next: usize,
}

impl ShortNames {
    fn avoiding(taken: &[&str]) -> ShortNames {
        ShortNames {
            taken: taken.iter().map(|name| name.to_string()).collect(),
            next: 0,
        }
    }

    fn next_name(&mut self) -> String {
        const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        loop {
            let mut n = self.next;
            self.next += 1;
            let mut name = String::new();
            loop {
                name.insert(0, char::from(LETTERS[n % LETTERS.len()]));
                n /= LETTERS.len();
                if n == 0 {
                    break;
                }
            }
            if self.taken.insert(name.clone()) {
                return name;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module with the given function imports and one function of its own, exported under
    /// each of `exports` (`memory` exports its memory instead).
    fn module_of(imports: &[(&str, &str)], exports: &[&str]) -> Vec<u8> {
        let mut types = wasm_encoder::TypeSection::new();
        types.ty().function([], []);
        let mut import_section = ImportSection::new();
        for (module, name) in imports {
            import_section.import(module, name, wasm_encoder::EntityType::Function(0));
        }
        let mut functions = wasm_encoder::FunctionSection::new();
        functions.function(0);
        let mut memories = wasm_encoder::MemorySection::new();
        memories.memory(wasm_encoder::MemoryType {
            minimum: 1,
            maximum: None,
            memory64: false,
            shared: false,
            page_size_log2: None,
        });
        let own = u32::try_from(imports.len()).expect("a few imports");
        let mut export_section = ExportSection::new();
        for name in exports {
            match *name {
                "memory" => export_section.export(name, wasm_encoder::ExportKind::Memory, 0),
                _ => export_section.export(name, wasm_encoder::ExportKind::Func, own),
            };
        }
        let mut code = wasm_encoder::CodeSection::new();
        let mut body = wasm_encoder::Function::new([]);
        body.instruction(&wasm_encoder::Instruction::End);
        code.function(&body);
        let mut module = wasm_encoder::Module::new();
        module
            .section(&types)
            .section(&import_section)
            .section(&functions)
            .section(&memories)
            .section(&export_section)
            .section(&code);
        let wasm = module.finish();
        assert!(wasmparser::Validator::new().validate_all(&wasm).is_ok());
        wasm
    }

    /// Two glue functions and one loader function imported; the memory and two functions
    /// exported.
    fn module() -> Vec<u8> {
        module_of(
            &[
                ("./page_bg.js", "__wbg_log_0123456789abcdef"),
                ("./page_bg.js", "__wbg_alert_fedcba9876543210"),
                ("./__wasm_split.js", "__wasm_split_load_pay"),
            ],
            &["memory", "__wbindgen_malloc", "__wbindgen_start"],
        )
    }

    /// The wasm's exports, by name, after checking it is valid.
    fn export_names(wasm: &[u8]) -> Vec<String> {
        assert!(wasmparser::Validator::new().validate_all(wasm).is_ok());
        let boundary = Boundary::read(wasm).expect("a readable wasm");
        boundary.exports.into_iter().map(|e| e.name).collect()
    }

    /// The wasm's imports, as (module, name).
    fn import_names(wasm: &[u8]) -> Vec<(String, String)> {
        let boundary = Boundary::read(wasm).expect("a readable wasm");
        boundary
            .imports
            .into_iter()
            .map(|i| (i.module, i.name))
            .collect()
    }

    const GLUE: &str = r#"function __wbg_get_imports() {
    const import0 = {
        __wbg_log_0123456789abcdef: function(arg0) { console.log(arg0); },
        __wbg_alert_fedcba9876543210: function(arg0) { alert(arg0); },
    };
    return { "./page_bg.js": import0, "./__wasm_split.js": import1 };
}
function __wbindgen_start() { wasm.__wbindgen_start(); }
const ptr = wasm.__wbindgen_malloc(8); const m = wasm.memory;
"#;

    #[test]
    fn unrooted_exports_point_at_a_new_trap_of_their_type_and_the_others_stay() {
        let wasm = module_of(
            &[("./page_bg.js", "__wbg_log_0123456789abcdef")],
            &["memory", "sink_write_58a9338f50bce61c", "__wbindgen_malloc"],
        );
        let names = BTreeSet::from(["sink_write".to_string()]);
        let (unrooted, count) = unroot_exports(&wasm, &names).unwrap();
        assert_eq!(count, 1);
        assert!(wasmparser::Validator::new().validate_all(&unrooted).is_ok());
        let boundary = Boundary::read(&unrooted).unwrap();
        let index_of = |name: &str| {
            boundary
                .exports
                .iter()
                .find(|export| export.name == name)
                .map(|export| export.index)
        };
        // Function 0 is the import, 1 the module's own, 2 the new one.
        assert_eq!(index_of("sink_write_58a9338f50bce61c"), Some(2));
        assert_eq!(index_of("__wbindgen_malloc"), Some(1));
        assert_eq!(boundary.function_types, [0, 0, 0]);
        let bodies: Vec<Vec<String>> = Parser::new(0)
            .parse_all(&unrooted)
            .filter_map(|payload| match payload.unwrap() {
                Payload::CodeSectionEntry(body) => Some(
                    body.get_operators_reader()
                        .unwrap()
                        .into_iter()
                        .map(|op| format!("{:?}", op.unwrap()))
                        .collect(),
                ),
                _ => None,
            })
            .collect();
        assert_eq!(bodies, [vec!["End"], vec!["Unreachable", "End"]]);
        // Nothing to unroot: the same bytes.
        let (same, none) = unroot_exports(&wasm, &BTreeSet::new()).unwrap();
        assert_eq!((same, none), (wasm, 0));
    }

    #[test]
    fn a_function_count_that_would_take_another_byte_leaves_the_wasm_as_it_was() {
        // 127 functions: a 128th would make the code section's count two bytes long and move
        // every offset the relocations name.
        let mut types = wasm_encoder::TypeSection::new();
        types.ty().function([], []);
        let mut functions = wasm_encoder::FunctionSection::new();
        let mut code = wasm_encoder::CodeSection::new();
        for _ in 0..127 {
            functions.function(0);
            let mut body = wasm_encoder::Function::new([]);
            body.instruction(&wasm_encoder::Instruction::End);
            code.function(&body);
        }
        let mut exports = ExportSection::new();
        exports.export("sink_write", wasm_encoder::ExportKind::Func, 0);
        let mut module = wasm_encoder::Module::new();
        module
            .section(&types)
            .section(&functions)
            .section(&exports)
            .section(&code);
        let wasm = module.finish();
        let names = BTreeSet::from(["sink_write".to_string()]);
        let (same, count) = unroot_exports(&wasm, &names).unwrap();
        assert_eq!((same, count), (wasm, 0));
    }

    #[test]
    fn lengths_and_names_are_read_as_the_linker_writes_them() {
        assert_eq!((leb_len(127), leb_len(128), leb_len(16_384)), (1, 2, 3));
        let mut encoded = Vec::new();
        leb(16_384, &mut encoded);
        assert_eq!(encoded, [0x80, 0x80, 0x01]);
        assert_eq!(
            without_symbol_hash("sink_write_58a9338f50bce61c"),
            "sink_write"
        );
        assert_eq!(without_symbol_hash("sink_write"), "sink_write");
        assert_eq!(without_symbol_hash("memory"), "memory");
    }

    #[test]
    fn imports_and_exports_the_glue_reads_are_renamed_in_both() {
        let loader = "const { memory } = initSync();";
        let (wasm, glue) = shorten_names(&module(), GLUE, "./page_bg.js", loader).unwrap();
        let split = "./__wasm_split.js".to_string();
        assert_eq!(
            import_names(&wasm),
            [
                ("a".into(), "a".into()),
                ("a".into(), "b".into()),
                (split, "__wasm_split_load_pay".into())
            ]
        );
        assert_eq!(export_names(&wasm), ["memory", "a", "b"]);
        assert!(glue.contains("a: function(arg0) { console.log(arg0); }"));
        assert!(glue.contains("b: function(arg0) { alert(arg0); }"));
        assert!(glue.contains(r#"{ "a": import0, "./__wasm_split.js": import1 }"#));
        assert!(glue.contains("const ptr = wasm.a(8); const m = wasm.memory;"));
        // The glue's own function of the export's name is a separate binding and stays.
        assert!(glue.contains("function __wbindgen_start() { wasm.b(); }"));
    }

    #[test]
    fn a_name_the_glue_uses_elsewhere_keeps_its_name() {
        let glue = GLUE.replace(
            "const ptr",
            "const f = imports[\"__wbg_alert_fedcba9876543210\"]; const x = exports.__wbindgen_malloc; const ptr",
        );
        let (wasm, glue) = shorten_names(&module(), &glue, "./page_bg.js", "").unwrap();
        let imports = import_names(&wasm);
        assert_eq!(imports[0].1, "a");
        assert_eq!(imports[1].1, "__wbg_alert_fedcba9876543210");
        // The others are still shortened (the memory too, with no loader naming it).
        assert_eq!(export_names(&wasm), ["a", "__wbindgen_malloc", "b"]);
        assert!(glue.contains("wasm.__wbindgen_malloc(8)"));
        assert!(glue.contains("__wbg_alert_fedcba9876543210: function"));
    }

    #[test]
    fn a_function_imported_twice_under_one_name_gets_one_short_name() {
        let log = ("./page_bg.js", "__wbg_log_0123456789abcdef");
        let twice = module_of(&[log, log], &[]);
        let (wasm, glue) = shorten_names(&twice, GLUE, "./page_bg.js", "").unwrap();
        let names: Vec<String> = import_names(&wasm).into_iter().map(|(_, n)| n).collect();
        assert_eq!(names, ["a", "a"]);
        assert!(glue.contains("a: function(arg0) { console.log(arg0); }"));
    }

    /// The methods of two classes and the allocator, exported.
    fn module_with_classes() -> Vec<u8> {
        module_of(
            &[],
            &[
                "__wbg_unmade_free",
                "unmade_pull",
                "__wbg_made_free",
                "made_get",
                "__wbindgen_malloc",
            ],
        )
    }

    /// Two classes as wasm-bindgen writes them: `Unmade`, which nothing can make, and `Made`,
    /// which Rust hands to JS (`__wrap`).
    const CLASSES: &str = r#"
export class Unmade {
    __destroy_into_raw() {
        const ptr = this.__wbg_ptr;
        this.__wbg_ptr = 0;
        UnmadeFinalization.unregister(this);
        return ptr;
    }
    free() {
        const ptr = this.__destroy_into_raw();
        wasm.__wbg_unmade_free(ptr, 0);
    }
    pull(controller) {
        const ret = wasm.unmade_pull(this.__wbg_ptr, controller);
        return ret;
    }
}
if (Symbol.dispose) Unmade.prototype[Symbol.dispose] = Unmade.prototype.free;

export class Made {
    static __wrap(ptr) {
        const obj = Object.create(Made.prototype);
        obj.__wbg_ptr = ptr;
        return obj;
    }
    free() {
        wasm.__wbg_made_free(this.__wbg_ptr, 0);
    }
    get() {
        return wasm.made_get(this.__wbg_ptr);
    }
}
const UnmadeFinalization = (typeof FinalizationRegistry === 'undefined')
    ? { register: () => {}, unregister: () => {} }
    : new FinalizationRegistry(ptr => wasm.__wbg_unmade_free(ptr >>> 0, 1));
function passString(text) { return wasm.__wbindgen_malloc(text.length); }
"#;

    #[test]
    fn a_class_nothing_can_make_leaves_the_glue_and_its_exports_the_wasm() {
        let (wasm, glue) = drop_unmade_classes(&module_with_classes(), CLASSES, "").unwrap();
        assert!(!glue.contains("Unmade"), "{glue}");
        assert!(!glue.contains("unmade"), "{glue}");
        assert!(glue.contains("export class Made {"));
        assert!(glue.contains("function passString"));
        assert_eq!(
            export_names(&wasm),
            ["__wbg_made_free", "made_get", "__wbindgen_malloc"]
        );
    }

    #[test]
    fn a_class_the_glue_still_names_stays_whole() {
        let glue = format!("{CLASSES}const kept = Unmade;\n");
        let (wasm, kept) = drop_unmade_classes(&module_with_classes(), &glue, "").unwrap();
        assert_eq!(kept, glue);
        assert_eq!(export_names(&wasm).len(), 5);
        // An export the chunks' loader names stays even when only the class read it.
        let loader = "const { unmade_pull } = x;";
        let (wasm, _) = drop_unmade_classes(&module_with_classes(), CLASSES, loader).unwrap();
        let exports = export_names(&wasm);
        assert!(exports.contains(&"unmade_pull".to_string()));
        assert!(!exports.contains(&"__wbg_unmade_free".to_string()));
    }

    #[test]
    fn short_names_skip_names_in_use() {
        let mut names = ShortNames::avoiding(&["a", "c"]);
        let first: Vec<String> = (0..3).map(|_| names.next_name()).collect();
        assert_eq!(first, ["b", "d", "e"]);
        let mut names = ShortNames::avoiding(&[]);
        let fifty_third = (0..53).map(|_| names.next_name()).last().unwrap();
        assert_eq!(fifty_third, "ba");
    }
}

//! The house's shape (STYLE, docs/architecture.md): read from the crate's own source, the
//! top-level modules import one another without a circle, and each imports only rooms on the
//! floors below its own, as the room map in docs/architecture.md draws them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each top-level module of the library and the other top-level modules it names anywhere in
/// its files: as `crate::name` (a `use`, a path in code, a member of a `crate::{a, b}` group) or
/// through a `super::` chain that climbs to the crate root.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let rooms: BTreeSet<String> = std::fs::read_dir(&src)
        .expect("src")
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            let room = name.strip_suffix(".rs").unwrap_or(&name).to_string();
            (e.path().is_dir() || name.ends_with(".rs")).then_some(room)
        })
        .filter(|room| room != "main" && room != "lib")
        .collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> =
        rooms.iter().map(|r| (r.clone(), BTreeSet::new())).collect();
    for room in &rooms {
        let mut files = Vec::new();
        rust_files(&src.join(room), &mut files);
        rust_files(&src.join(format!("{room}.rs")), &mut files);
        for file in files {
            let text = without_comments(&std::fs::read_to_string(&file).expect("read"));
            let depth = module_depth(&src, &file);
            for named in named_rooms(&text, depth) {
                if named != *room && rooms.contains(&named) {
                    graph.get_mut(room).expect("room").insert(named);
                }
            }
        }
    }
    graph
}

fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_file() && path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_path_buf());
    } else if path.is_dir() {
        for entry in std::fs::read_dir(path).expect("dir").filter_map(|e| e.ok()) {
            rust_files(&entry.path(), out);
        }
    }
}

/// The text with `//` comments removed, so that a doc comment naming a module is no import.
fn without_comments(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            // A `//` inside a string (a URL) is kept; only a line's comment part is dropped.
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// How deep the file's module is below the crate root: `db.rs` and `db/mod.rs` are 1,
/// `db/calls.rs` 2.
fn module_depth(src: &Path, file: &Path) -> usize {
    let relative = file.strip_prefix(src).expect("under src");
    let parts = relative.components().count();
    if relative.ends_with("mod.rs") {
        parts - 1
    } else {
        parts
    }
}

fn ident(s: &str) -> String {
    s.trim_start()
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// The top-level members of a `{…}` group (nested groups skipped over), each's first segment.
fn group_members(group: &str) -> Vec<String> {
    let (mut members, mut depth, mut start) = (Vec::new(), 0, 0);
    for (at, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                members.push(ident(&group[start..at]));
                break;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                members.push(ident(&group[start..at]));
                start = at + 1;
            }
            _ => {}
        }
    }
    members
}

/// How many inline modules (`mod name {`) open before the end of `text`: each is one more
/// level a `super::` chain after it must climb.
fn inline_modules_before(text: &str) -> usize {
    text.match_indices("mod ")
        .filter(|(at, _)| {
            let word_start =
                !text[..*at].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_');
            let rest = &text[at + "mod ".len()..];
            let name = ident(rest);
            word_start && !name.is_empty() && rest[name.len()..].trim_start().starts_with('{')
        })
        .count()
}

/// The top-level modules a file at `depth` names: every first segment after `crate::` (each
/// member of a `crate::{…}` group, nested groups included), and after a `super::` chain that
/// climbs to the crate root.
fn named_rooms(text: &str, depth: usize) -> Vec<String> {
    let mut named = Vec::new();
    let mut after_root = |rest: &str| match rest.strip_prefix('{') {
        Some(group) => named.extend(group_members(group)),
        None => named.push(ident(rest)),
    };
    for (at, _) in text.match_indices("crate::") {
        after_root(&text[at + "crate::".len()..]);
    }
    for (at, _) in text.match_indices("super::") {
        // Only the start of a chain: a `super::` right after another is part of it.
        if text[..at].ends_with("super::") {
            continue;
        }
        let mut rest = &text[at..];
        let mut climbed = 0;
        while let Some(next) = rest.strip_prefix("super::") {
            rest = next;
            climbed += 1;
        }
        // An inline module (`mod tests {`) before this point is one more level to climb.
        let inline = inline_modules_before(&text[..at]);
        if climbed >= depth + inline {
            after_root(rest);
        }
    }
    named
}

/// A circle in `graph`, if any, as the path that closes it.
fn circle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn walk(
        graph: &BTreeMap<String, BTreeSet<String>>,
        room: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|r| r == room) {
            let mut found = path[at..].to_vec();
            found.push(room.to_string());
            return Some(found);
        }
        if done.contains(room) {
            return None;
        }
        path.push(room.to_string());
        for next in graph.get(room).into_iter().flatten() {
            if let Some(found) = walk(graph, next, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(room.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|room| walk(graph, room, &mut Vec::new(), &mut done))
}

/// The floors of docs/architecture.md's room map, from the ground up: its lines of the form
/// `floor N: room, room, …`.
fn floors() -> BTreeMap<String, usize> {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/architecture.md"))
            .expect("docs/architecture.md");
    let mut floors = BTreeMap::new();
    for line in doc.lines() {
        let Some((floor, rooms)) = line
            .trim()
            .strip_prefix("floor ")
            .and_then(|l| l.split_once(':'))
        else {
            continue;
        };
        let floor: usize = floor.trim().parse().expect("a floor's number");
        for room in rooms.split(',').map(str::trim).filter(|r| !r.is_empty()) {
            let room = room.trim_end_matches('/').to_string();
            assert!(
                floors.insert(room.clone(), floor).is_none(),
                "{room} is on two floors"
            );
        }
    }
    floors
}

#[test]
fn no_two_top_level_modules_import_each_other_even_through_others() {
    let graph = imports();
    assert!(graph.len() > 20, "{} top-level modules read", graph.len());
    assert!(
        graph["db"].contains("domain") && graph["missed_call"].contains("db"),
        "the reading finds imports: {graph:?}"
    );
    if let Some(found) = circle(&graph) {
        panic!("an import circle: {}", found.join(" → "));
    }
}

#[test]
fn an_import_is_read_through_nested_groups_and_super_chains_that_reach_the_root() {
    let text = "use crate::{db::{self, DbError}, jobs::timers::Timers};\n\
                use super::super::super::webhooks::session;\n\
                use super::reconcile;";
    let named = named_rooms(text, 3);
    assert_eq!(named, ["db", "jobs", "webhooks"]);
    // Inside an inline module a chain must climb one level more to reach the root.
    let in_tests = "mod tests {\n    use super::super::super::activity;\n}";
    assert!(named_rooms(in_tests, 3).is_empty());
}

#[test]
fn the_circle_check_finds_a_circle_when_there_is_one() {
    let mut graph = imports();
    graph
        .get_mut("db")
        .expect("db")
        .insert("missed_call".to_string());
    let found = circle(&graph).expect("a circle");
    assert_eq!(found.first(), found.last());
}

#[test]
fn every_module_is_on_a_floor_of_the_room_map_and_imports_only_rooms_below_it() {
    let graph = imports();
    let floors = floors();
    let rooms: BTreeSet<&String> = graph.keys().collect();
    let drawn: BTreeSet<&String> = floors.keys().collect();
    assert_eq!(
        rooms, drawn,
        "docs/architecture.md's room map and src/ differ"
    );
    let up: Vec<String> = graph
        .iter()
        .flat_map(|(room, named)| named.iter().map(move |n| (room, n)))
        .filter(|(room, named)| floors[*named] >= floors[*room])
        .map(|(room, named)| {
            format!(
                "{room} (floor {}) → {named} (floor {})",
                floors[room], floors[named]
            )
        })
        .collect();
    assert!(
        up.is_empty(),
        "imports that do not go down a floor: {up:#?}"
    );
}

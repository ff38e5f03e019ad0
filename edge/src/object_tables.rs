//! The SQL tables in a Durable Object's own storage, made once per instance of the object:
//! every call ran its `CREATE … IF NOT EXISTS` statements before.

use std::cell::Cell;
use worker::{SqlStorage, State};

/// The statements that make an object's tables, and whether this instance has run them.
pub struct ObjectTables {
    schema: &'static [&'static str],
    made: Cell<bool>,
}

impl ObjectTables {
    pub const fn new(schema: &'static [&'static str]) -> Self {
        ObjectTables {
            schema,
            made: Cell::new(false),
        }
    }

    /// The object's SQL storage, its tables made first if this instance has not yet.
    pub fn open(&self, state: &State) -> worker::Result<SqlStorage> {
        let sql = state.storage().sql();
        if !self.made.get() {
            for statement in self.schema {
                sql.exec(statement, None)?;
            }
            self.made.set(true);
        }
        Ok(sql)
    }

    /// After the object's storage was deleted (`delete_all`): its tables went with it.
    pub fn deleted(&self) {
        self.made.set(false);
    }
}

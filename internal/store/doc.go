// Package store keeps the daemon's records in one bbolt file under the data
// root, so that everything acknowledged survives a restart or a kill -9
// (bbolt commits are fsynced before they return).
//
// Buckets (schema version 1):
//
//	meta/
//	  schema        -> "1"
//	containers/
//	  <id>          -> JSON record of the engine (engine.record)
//	volumes/
//	  <name>        -> JSON record of the engine
//	networks/
//	  <id>          -> JSON record of the engine
//
// The store knows nothing of what the records mean; the engine owns them.
// Values are JSON so that a record can gain fields without a migration;
// a change that cannot be read by the previous code bumps the schema
// version and adds a step to migrations.
package store

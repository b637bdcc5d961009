// schema_await_indexes: wait until the indexes created by init are online
// params: timeout_seconds
CALL db.awaitIndexes($timeout_seconds)

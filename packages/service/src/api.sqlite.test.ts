/** @module api.sqlite.test — the API acceptance suite on SQLite. */
import { defineApiSuite } from "./testing/api-suite.ts";

defineApiSuite("SQLite", { newDatabase: async () => undefined });

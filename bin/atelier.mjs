#!/usr/bin/env node
// The CLI is TypeScript run through tsx, so a fresh clone works right after `npm install`.
import { register } from "tsx/esm/api";

register();
await import("../src/cli/main.ts");

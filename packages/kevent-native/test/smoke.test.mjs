import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from '../dist/index.js';
test('a queue opens and closes', () => { const q = new Queue(); assert.equal(q.closed, false); q.close(); assert.equal(q.closed, true); });

import { autocannonTool } from './autocannon.js';
import { abTool } from './ab.js';
import { wrkTool } from './wrk.js';
import type { LoadTool } from './types.js';

export const LOAD_TOOLS: Record<string, LoadTool> = { autocannon: autocannonTool, ab: abTool, wrk: wrkTool };
export type { LoadTool, LoadSpec, Measurement, Latency } from './types.js';

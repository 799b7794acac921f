import type { Area } from './types.js';
import { workloadsArea } from './workloads/index.js';

/** Every hardening area, once. Adding an area is a folder and a line here. */
export const AREAS: Area[] = [workloadsArea];

export const AREA_IDS = ['rbac', 'tls', 'network', 'workloads', 'apiserver', 'images'] as const;

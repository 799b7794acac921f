import { apiserverArea } from './apiserver/index.js';
import { imagesArea } from './images/index.js';
import { networkArea } from './network/index.js';
import { rbacArea } from './rbac/index.js';
import { tlsArea } from './tls/index.js';
import { AREA_IDS, type Area } from './types.js';
import { workloadsArea } from './workloads/index.js';

/** Every hardening area, once. Adding an area is a folder and a line here. */
const ALL: Area[] = [rbacArea, apiserverArea, tlsArea, networkArea, workloadsArea, imagesArea] as Area[];

/** The areas, in the order of the pipeline (AREA_IDS). */
export const AREAS: Area[] = [...ALL].sort((a, b) => AREA_IDS.indexOf(a.id) - AREA_IDS.indexOf(b.id));

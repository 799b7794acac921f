#!/usr/bin/env node
// @ts-check
// `kubectl harden ...`: kubectl finds kubectl-harden on PATH and passes the arguments through.
import './kube-harden.js';

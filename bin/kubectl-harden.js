#!/usr/bin/env node
// `kubectl harden ...`: kubectl finds kubectl-harden on PATH and passes the arguments through.
import './kube-harden.js';

/** The probe contract, for src/: it lives in the probe kit (src/probe-kit/contract.ts), with what else a probe may import. */
export * from './probe-kit/contract.js';

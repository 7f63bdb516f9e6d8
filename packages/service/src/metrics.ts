/** @module metrics — Prometheus metrics: builds by status, job retries, VM failures, request latency. */

import type { BuildStatus } from "@icaas/contract";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/**
 * One registry per service instance (tests run several in one process). `icaas_builds` is read
 * from the database at scrape time, so it is the same whichever instance is scraped.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<"method" | "route" | "status_code">;
  readonly jobRetries: Counter<"kind">;
  readonly jobFailures: Counter<"kind">;
  readonly vmCreated: Counter;
  readonly vmCreateFailures: Counter<"reason">;
  readonly vmDestroyed: Counter;
  readonly vmDestroyFailures: Counter<"reason">;
  readonly buildsEnded: Counter<"status" | "reason">;

  constructor(countBuilds: () => Promise<Record<BuildStatus, number>>) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: "icaas_" });
    new Gauge({
      name: "icaas_builds",
      help: "Builds (not deleted) by status.",
      labelNames: ["status"],
      registers,
      async collect() {
        const counts = await countBuilds();
        for (const [status, count] of Object.entries(counts)) this.set({ status }, count);
      },
    });
    this.httpDuration = new Histogram({
      name: "icaas_http_request_duration_seconds",
      help: "HTTP request latency by route template.",
      labelNames: ["method", "route", "status_code"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.jobRetries = new Counter({
      name: "icaas_job_retries_total",
      help: "Job attempts that failed and were scheduled again.",
      labelNames: ["kind"],
      registers,
    });
    this.jobFailures = new Counter({
      name: "icaas_job_failures_total",
      help: "Jobs that gave up.",
      labelNames: ["kind"],
      registers,
    });
    this.vmCreated = new Counter({ name: "icaas_vm_created_total", help: "Agent VMs created.", registers });
    this.vmCreateFailures = new Counter({
      name: "icaas_vm_create_failures_total",
      help: "Failed Cyclades create calls.",
      labelNames: ["reason"],
      registers,
    });
    this.vmDestroyed = new Counter({
      name: "icaas_vm_destroyed_total",
      help: "Agent VMs destroyed.",
      registers,
    });
    this.vmDestroyFailures = new Counter({
      name: "icaas_vm_destroy_failures_total",
      help: "Failed Cyclades delete calls.",
      labelNames: ["reason"],
      registers,
    });
    this.buildsEnded = new Counter({
      name: "icaas_builds_ended_total",
      help: "Builds that reached a final state, by status and reason.",
      labelNames: ["status", "reason"],
      registers,
    });
  }
}

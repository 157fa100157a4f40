/** Prometheus text exposition format (version 0.0.4): counters, gauges and histograms. */

type Labels = Record<string, string>;

export class Exposition {
  private readonly lines: string[] = [];

  counter(name: string, help: string, samples: Array<{ labels?: Labels; value: number }>): this {
    return this.family(name, "counter", help, samples);
  }

  gauge(name: string, help: string, samples: Array<{ labels?: Labels; value: number }>): this {
    return this.family(name, "gauge", help, samples);
  }

  /** `buckets` are cumulative counts for each upper bound, as Prometheus wants them. */
  histogram(
    name: string,
    help: string,
    series: Array<{ labels?: Labels; bounds: number[]; buckets: number[]; count: number; sum: number }>,
  ): this {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
    for (const { labels = {}, bounds, buckets, count, sum } of series) {
      for (const [i, bound] of bounds.entries()) {
        this.lines.push(`${name}_bucket${format({ ...labels, le: String(bound) })} ${buckets[i]}`);
      }
      this.lines.push(`${name}_bucket${format({ ...labels, le: "+Inf" })} ${count}`);
      this.lines.push(`${name}_sum${format(labels)} ${sum}`, `${name}_count${format(labels)} ${count}`);
    }
    return this;
  }

  toString(): string {
    return `${this.lines.join("\n")}\n`;
  }

  private family(name: string, type: string, help: string, samples: Array<{ labels?: Labels; value: number }>): this {
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const sample of samples) this.lines.push(`${name}${format(sample.labels ?? {})} ${sample.value}`);
    return this;
  }
}

function format(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  return `{${entries.map(([key, value]) => `${key}="${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`).join(",")}}`;
}

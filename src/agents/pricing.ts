/**
 * What model calls cost (docs/workflows.md Cost; MODEL_PRICES in docs/operations.md): a price per million input and output
 * tokens per model. A provider may answer with a dated name ("gpt-4o-mini-2024-07-18") for the
 * model it was asked for, so the longest priced name the answered one extends counts too. An
 * unpriced model costs null: an unknown cost is never shown as zero.
 */
import type { Settings } from "../config";

export type ModelPrices = Settings["MODEL_PRICES"];
export type ModelPrice = ModelPrices[string];

export function priceOf(prices: ModelPrices, model: string): ModelPrice | null {
  if (prices[model]) return prices[model];
  const extended = Object.keys(prices)
    .filter((name) => model.startsWith(`${name}-`))
    .sort((a, b) => b.length - a.length)[0];
  return extended ? prices[extended] : null;
}

export function callCost(price: ModelPrice | null, usage: { promptTokens: number; completionTokens: number }) {
  if (!price) return null;
  return roundUsd((usage.promptTokens * price.inputPerMTok + usage.completionTokens * price.outputPerMTok) / 1e6);
}

/** Sums costs, any unknown making the sum unknown. */
export function addCosts(a: number | null, b: number | null): number | null {
  return a === null || b === null ? null : roundUsd(a + b);
}

/** Costs are kept to a billionth of a dollar, so sums do not drift in the last digits. */
export function roundUsd(usd: number): number {
  return Math.round(usd * 1e9) / 1e9;
}

/**
 * The execution's cost budget (docs/workflows.md `costBudgetUsd`): before each model call, what the
 * execution has spent plus what this call could cost at most (its prompt, and every token it may
 * answer with) must fit. When it does not, the step waits for an owner to raise the budget or
 * reject. A budget cannot be kept on a model without a price, so such a call fails instead.
 */
import { AgentError } from "./errors";
import { callCost, type ModelPrices, priceOf, roundUsd } from "./pricing";
import type { AgentState } from "./state";

export interface CostBudget {
  budgetUsd: number;
  /** The execution's cost when this attempt was claimed (its checkpointed calls included); null: unknown. */
  spentBeforeUsd: number | null;
}

export interface BudgetShortfall {
  budgetUsd: number;
  spentUsd: number;
  nextCallUsd: number;
}

/** Roughly four characters a token, like the OpenAI tokenizers on English text. */
const CHARS_PER_TOKEN = 4;

export function budgetShortfall(
  budget: CostBudget,
  call: { prices: ModelPrices; model: string; maxTokens: number },
  state: AgentState,
  costAtStart: number | null,
): BudgetShortfall | null {
  const price = priceOf(call.prices, call.model);
  const now = attemptCost(state);
  if (!price || budget.spentBeforeUsd === null || now === null || costAtStart === null) {
    throw new AgentError(
      "model_unpriced",
      `the execution has a cost budget, and model ${call.model} (or one it called before) has no price in MODEL_PRICES`,
    );
  }
  const promptTokens = Math.ceil(
    state.messages.reduce((chars, message) => chars + (message.content?.length ?? 0), 0) / CHARS_PER_TOKEN,
  );
  const nextCallUsd = callCost(price, { promptTokens, completionTokens: call.maxTokens }) ?? 0;
  const spentUsd = roundUsd(budget.spentBeforeUsd + now - costAtStart);
  return spentUsd + nextCallUsd > budget.budgetUsd ? { budgetUsd: budget.budgetUsd, spentUsd, nextCallUsd } : null;
}

/** The attempt's cost so far (zero in checkpoints from before costs were kept). */
export function attemptCost(state: AgentState): number | null {
  return state.usage.costUsd === undefined ? 0 : state.usage.costUsd;
}

/**
 * A workflow's steps as a diagram: dagre lays the DAG out (ranks, crossings, edge routes); each
 * node shows its step's id, type and live status. Nodes are focusable buttons, so the diagram is
 * usable by keyboard, and selecting one tells the page which step to show.
 */
import dagre from "@dagrejs/dagre";
import { useMemo } from "preact/hooks";
import type { StepDefinition, StepStatus } from "../api/types";

const NODE_WIDTH = 168;
const NODE_HEIGHT = 48;

interface Laid {
  nodes: Array<{ id: string; type: string; x: number; y: number }>;
  edges: Array<{ from: string; to: string; points: Array<{ x: number; y: number }>; label: string | null }>;
  width: number;
  height: number;
}

function layout(steps: StepDefinition[]): Laid {
  const graph = new dagre.graphlib.Graph();
  graph.setGraph({ rankdir: "LR", nodesep: 24, ranksep: 56, marginx: 8, marginy: 8 });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const step of steps) graph.setNode(step.id, { width: NODE_WIDTH, height: NODE_HEIGHT });
  const ids = new Set(steps.map((step) => step.id));
  for (const step of steps) for (const dep of step.dependsOn ?? []) if (ids.has(dep)) graph.setEdge(dep, step.id);
  dagre.layout(graph);
  const branch = (from: string, to: string) => {
    const condition = steps.find((step) => step.id === from);
    if (condition?.then?.includes(to)) return "then";
    if (condition?.else?.includes(to)) return "else";
    return null;
  };
  const info = graph.graph();
  return {
    nodes: steps.map((step) => {
      const node = graph.node(step.id);
      return { id: step.id, type: step.type, x: node.x, y: node.y };
    }),
    edges: graph.edges().map((edge) => ({
      from: edge.v,
      to: edge.w,
      points: graph.edge(edge).points ?? [],
      label: branch(edge.v, edge.w),
    })),
    width: info.width ?? 0,
    height: info.height ?? 0,
  };
}

const path = (points: Array<{ x: number; y: number }>) =>
  points.map((point, i) => `${i === 0 ? "M" : "L"}${point.x.toFixed(1)},${point.y.toFixed(1)}`).join(" ");

export function Dag(props: {
  steps: StepDefinition[];
  statuses?: Record<string, StepStatus>;
  /** A second line for a node instead of its type and status: a map's counter, a compensation. */
  details?: Record<string, string>;
  selected?: string | null;
  onSelect?: (stepId: string) => void;
}) {
  const laid = useMemo(() => layout(props.steps), [props.steps]);
  // dagre lays out an empty graph as -Infinity wide: there is nothing to draw until the steps are known.
  if (laid.nodes.length === 0) return <p class="empty">No steps to show yet.</p>;
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a diagram wider than the screen scrolls, so it must take focus
    <figure class="dag" tabIndex={0} aria-label="Workflow diagram">
      {/* biome-ignore lint/a11y/useSemanticElements: an SVG with focusable steps inside is a group; role="img" would hide them */}
      <svg
        viewBox={`0 0 ${laid.width} ${laid.height}`}
        // Shrinks to fit its column, never grows past its natural size (set through the CSSOM, which the CSP allows).
        // Below 34rem it would be too small to read: it scrolls instead.
        style={{ maxWidth: `${laid.width}px`, minWidth: `min(34rem, ${laid.width}px)` }}
        role="group"
        aria-label={`Workflow diagram, ${laid.nodes.length} steps`}
      >
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">
            <path d="M0,0 L10,5 L0,10 z" class="dag-arrow" />
          </marker>
        </defs>
        {laid.edges.map((edge) => (
          <g key={`${edge.from}-${edge.to}`} class="dag-edge">
            <path d={path(edge.points)} marker-end="url(#arrow)" />
            {edge.label && edge.points.length > 1 && (
              <text x={edge.points[1].x} y={edge.points[1].y - 4} class="dag-edge-label">
                {edge.label}
              </text>
            )}
          </g>
        ))}
        {laid.nodes.map((node) => {
          const status = props.statuses?.[node.id] ?? "pending";
          const select = () => props.onSelect?.(node.id);
          return (
            // biome-ignore lint/a11y/useSemanticElements: an SVG group cannot be a <button>; it takes the role instead
            <g
              key={node.id}
              class={`dag-node status-${status}${props.selected === node.id ? " selected" : ""}`}
              transform={`translate(${node.x - NODE_WIDTH / 2},${node.y - NODE_HEIGHT / 2})`}
              // Lower case: on SVG, Preact sets attributes by name, and only `tabindex` makes a group focusable.
              tabindex={0}
              role="button"
              aria-pressed={props.selected === node.id}
              data-step={node.id}
              data-status={status}
              onClick={select}
              onKeyDown={(event) => {
                if (event.key === "Enter" || event.key === " ") {
                  event.preventDefault();
                  select();
                }
              }}
            >
              <rect width={NODE_WIDTH} height={NODE_HEIGHT} rx="8" />
              <text x="12" y="20" class="dag-node-id">
                {node.id.length > 20 ? `${node.id.slice(0, 19)}…` : node.id}
              </text>
              <text x="12" y="37" class="dag-node-meta" data-detail={props.details?.[node.id] ? "" : undefined}>
                {props.details?.[node.id] ?? `${node.type} · ${status}`}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

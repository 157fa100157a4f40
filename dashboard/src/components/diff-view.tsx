/** Two definitions side by side as a line diff of their pretty-printed JSON (jsdiff). */
import { diffLines } from "diff";
import { json } from "./format";
import { ScrollRegion } from "./scroll-region";

export function DiffView({ before, after }: { before: unknown; after: unknown }) {
  const parts = diffLines(json(before), json(after));
  const changed = parts.some((part) => part.added || part.removed);
  if (!changed) return <p class="empty">The two versions are identical.</p>;
  return (
    <ScrollRegion label="Definition diff" className="diff">
      <pre>
        {parts.map((part, index) => {
          const kind = part.added ? "added" : part.removed ? "removed" : "same";
          const mark = part.added ? "+ " : part.removed ? "- " : "  ";
          const lines = part.value.replace(/\n$/, "").split("\n");
          return (
            <span key={index} class={`diff-${kind}`}>
              {lines.map((line) => `${mark}${line}\n`).join("")}
            </span>
          );
        })}
      </pre>
    </ScrollRegion>
  );
}

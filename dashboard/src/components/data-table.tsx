/**
 * A list as a table in its own scrolling region: a caption for screen readers, the column headers,
 * and the rows the page draws. An empty column name is the actions column (its header is only for
 * screen readers).
 */
import type { ComponentChildren } from "preact";
import { ScrollRegion } from "./scroll-region";

export function DataTable(props: { caption: string; columns: string[]; children: ComponentChildren }) {
  return (
    <ScrollRegion label={`${props.caption} table`} className="table-wrap">
      <table>
        <caption class="sr-only">{props.caption}</caption>
        <thead>
          <tr>
            {props.columns.map((column) => (
              <th scope="col" key={column}>
                {column || <span class="sr-only">Actions</span>}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </ScrollRegion>
  );
}

import { render } from "preact";

render(<p>IPA Platform</p>, document.getElementById("app") as HTMLElement);

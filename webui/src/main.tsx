import { render } from "preact";
import { App } from "./app";
import { interceptLinks } from "./router";
import { applyTheme } from "./theme";
import "./styles.css";

applyTheme();
const root = document.getElementById("app")!;
interceptLinks(root);
render(<App />, root);

// Pages with nothing of their own to do: the navigation only.
import { initLayout } from "./common.js";

initLayout();

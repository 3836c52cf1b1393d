"""The dashboard page's CSS: how it fits a projector's screen without scrolling.

The levers scroll in their own column, the maps shrink to the height left over by the
toolbar, the buttons and the charts (whose grid takes as many columns as the width allows),
and Solara's banner is not shown (``server.serve`` turns it off; in a notebook there is none).
On a screen 1256 pixels wide or more (a 1280x800 projector, full HD) the charts sit under the
maps, beside the levers: four or more a row, two rows.  Narrower (an XGA projector, 1024x768),
that column holds three a row, and a third row would not fit: the charts then run the page's
whole width, under the levers too, four a row, and the levers' column ends above them.
The line of a refused value, over the levers and the views, takes ``--bb-error`` pixels (its
34 and the column's gap) from the maps, the log and the levers until it goes.
"""

# The narrow layout's width (@media): below 1256 pixels the views' column beside the levers
# holds only three charts a row (four take 4 x charts.NARROWEST + 3 gaps of 6 = 938 pixels,
# beside 290 of levers, a gap of 12 and 16 of padding).
PAGE_CSS = """
.bb-dashboard { padding: 6px 8px !important; --bb-error: 0px; }
.bb-dashboard:has(.bb-error) { --bb-error: 40px; }
.bb-dashboard .bb-error { margin: 0 !important; padding: 4px 12px !important; font-size: 13px; }
.bb-levers { width: 290px; flex: none; max-height: calc(100vh - 64px - var(--bb-error));
             overflow-y: auto; }
.bb-views { flex: 1 1 0; min-width: 0; }
.bb-map-view { flex: 0 1 600px; min-width: 0; }
.bb-map-view svg { display: block; width: 100%; height: auto;
                   max-height: calc(100vh - 430px - var(--bb-error)); }
.bb-side { flex: 1 1 200px; min-width: 160px; max-height: calc(100vh - 430px - var(--bb-error)); }
.bb-key-view { flex: none; }
.bb-map-key { font-size: 12px; line-height: 16px; }
.bb-map-key .bb-symbols { display: flex; flex-wrap: wrap; gap: 1px 10px; margin-bottom: 4px; }
.bb-key-entry { display: inline-flex; align-items: center; gap: 3px; white-space: nowrap;
                margin-right: 10px; }
.bb-map-key .bb-symbols .bb-key-entry { margin-right: 0; }
.bb-swatch { width: 11px; height: 11px; flex: none; }
.bb-ramp { width: 150px; max-width: 100%; height: 10px; border: 1px solid #555; }
.bb-ramp-ends { width: 150px; max-width: 100%; display: flex; justify-content: space-between; }
.bb-log { flex: 1 1 auto; min-height: 0; overflow-y: auto; font-size: 12px; }
.bb-charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(230px, 1fr));
             gap: 2px 6px; width: 100%; }
.bb-chart-view svg { display: block; width: 100%; height: auto; }
.bb-chart-key { grid-column: 1 / -1; font-size: 13px; line-height: 16px; }
.bb-notice { font-size: 13px; color: #7a4b00; }
.bb-dashboard .v-input { margin-top: 0; padding-top: 0; }
.bb-dashboard .v-input__slot { margin-bottom: 0; }
.bb-dashboard .v-text-field__details, .bb-dashboard .v-messages { display: none; }
.bb-levers .v-card__title { font-size: 15px; line-height: 1.3; padding: 6px 10px; }
.bb-levers .v-card__text { padding: 0 10px 6px; }
.bb-dashboard .v-btn-toggle .v-btn { height: 30px !important; padding: 0 8px;
                                     font-size: 12px; }
@media (max-width: 1255px) {
  .bb-dashboard { padding: 6px 8px 4px !important; }
  .bb-dashboard .bb-main { display: grid !important; grid-template-columns: 290px minmax(0, 1fr);
                           gap: 2px 12px; }
  .bb-dashboard .bb-views { display: contents !important; }
  .bb-levers { grid-area: 1 / 1; align-self: stretch; max-height: none; contain: size; }
  .bb-dashboard .bb-levers { border-bottom: 1px solid #bbb; }
  .bb-views-top { grid-area: 1 / 2; min-width: 0; gap: 4px !important; }
  .bb-pairing { gap: 8px !important; }
  .bb-charts { grid-area: 2 / 1 / 3 / 3; }
  /* Two rows of charts as tall as at 1024 pixels (248 wide), whatever the width. */
  .bb-chart-view svg { max-height: 104px; }
  /* What the toolbar, the rows of controls, the buttons and the charts leave at 1024x768. */
  .bb-map-view svg, .bb-side { max-height: calc(100vh - 400px - var(--bb-error)); }
  .bb-paired .bb-map-view svg, .bb-paired .bb-side {
    max-height: calc(100vh - 446px - var(--bb-error)); }
  .bb-dashboard .v-btn-toggle .v-btn { padding: 0 6px; }
}
"""

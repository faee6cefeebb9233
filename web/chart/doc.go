// Package chart draws the charts and maps of the printable pages (the strategic
// review, impact assessments, trigger events) as inline SVG, on the server.
//
// Every chart is a value whose SVG method returns markup ready to place in an
// html/template page:
//
//   - it styles itself with presentation attributes only (fill, stroke,
//     font-size...), never a style attribute or element, so it obeys the pages'
//     Content-Security-Policy (style-src 'self'); it holds no script, loads
//     nothing and uses the reader's sans-serif font;
//   - it is well-formed XML with every text escaped;
//   - it has role="img", a title and a description in words for screen readers,
//     and a viewBox with width="100%", so it scales to the page and to A4;
//   - the same input gives the same bytes.
//
// Colours are colour-blind safe and the same as the interactive map's: Okabe and
// Ito's palette for series and categories, viridis and plasma for counts and
// rates, a blue to orange scale for Gi* hot and cold spots. Series are also told
// apart by dash patterns and point symbols, so the charts read in greyscale.
//
// A value that is withheld or missing is NaN. Lines leave a gap there; bars draw
// a short hatched outline, never a bar of zero, and the legend says what it
// means; maps fill it light grey with hatching.
package chart

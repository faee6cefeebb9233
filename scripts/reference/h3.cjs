// Writes each point's H3 cell at every default roll-up resolution its precision
// supports, by h3-js's latLngToCell: node h3.cjs points.csv cells.csv
const fs = require("fs");
const h3 = require("h3-js");

const [input, output] = process.argv.slice(2);
const resolutions = [6, 7, 8, 9, 10];
const lines = fs.readFileSync(input, "utf8").trim().split("\n").slice(1);
const out = ["point,res,cell"];
lines.forEach((line, i) => {
  const [lat, lon, maxRes] = line.split(",");
  for (const res of resolutions) {
    if (res <= Number(maxRes)) {
      out.push(`${i},${res},${h3.latLngToCell(Number(lat), Number(lon), res)}`);
    }
  }
});
fs.writeFileSync(output, out.join("\n") + "\n");
console.log(`h3-js ${require("h3-js/package.json").version}: ${lines.length} points, ${out.length - 1} cells`);

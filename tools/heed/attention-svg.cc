#include "attention-svg.h"

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>

#include "attention-map.h"  // xml_escape, the pattern names (attention_map_count)
// Internals on purpose: the visibility rule is the kernels' own
// (attention_mask of the op, attention_key_range / attention_key_ranges), so
// the weights cannot drift from what runs.
#include "kernels/attention/attention-mask.h"
#include "kernels/attention/f32-attention.h"
#include "ops/attention.h"

namespace heed::cli {

bool attention_weights_supported(const OpInfo& op) { return !attention_cached(op); }

AttentionWeights attention_weights(const OpInfo& op, const float* qkv, size_t n, size_t head) {
  AttentionWeights w;
  // The pattern's name and details as `heed inspect --attention-map` gives them.
  const AttentionMap map = attention_map_count(op, DecoderSettings{}, false, n);
  w.pattern = map.pattern;
  w.window = map.window;
  w.detail = map.detail;
  w.n = n;
  w.p.assign(n * n, 0.0);
  w.visible.assign(n * n, 0);
  const AttentionMask mask = attention_mask(op);
  std::vector<KeyRange> ranges(attention_max_ranges(mask, n));
  const size_t H = size_t(op.num_heads), D = size_t(op.head_dim);
  const size_t KV = size_t(op.num_kv_heads > 0 ? op.num_kv_heads : op.num_heads);
  const size_t stride = (H + 2 * KV) * D;
  const double scale = double(op.attn_scale);
  std::vector<double> s(n);
  for (size_t i = 0; i < n; ++i) {
    // Query i's visible keys as f32-attention takes them.
    size_t nr = 1;
    if (mask.ranged()) {
      nr = attention_key_ranges(mask, n, i, ranges.data());
    } else {
      size_t jb = 0, je = 0;
      attention_key_range(n, i, mask, &jb, &je);
      ranges[0] = KeyRange{uint32_t(jb), uint32_t(je)};
    }
    const float* q = qkv + i * stride + head * D;
    double m = -INFINITY;
    for (size_t r = 0; r < nr; ++r) {
      for (size_t j = ranges[r].begin; j < ranges[r].end; ++j) {
        const float* k = qkv + j * stride + (H + head) * D;
        double a = 0;
        for (size_t d = 0; d < D; ++d) a += double(q[d]) * double(k[d]);
        s[j] = a * scale;
        m = std::max(m, s[j]);
        w.visible[i * n + j] = 1;
      }
    }
    double sum = 0;
    for (size_t j = 0; j < n; ++j)
      if (w.visible[i * n + j]) sum += s[j] = std::exp(s[j] - m);
    double* row = &w.p[i * n];
    for (size_t j = 0; j < n; ++j) {
      if (!w.visible[i * n + j]) continue;
      row[j] = s[j] / sum;
      w.max_p = std::max(w.max_p, row[j]);
      ++w.visible_pairs;
    }
  }
  return w;
}

double attention_weights_check(const OpInfo& op, const AttentionWeights& w, const float* qkv, const float* out,
                               size_t head, double* out_max) {
  const size_t n = w.n, H = size_t(op.num_heads), D = size_t(op.head_dim);
  const size_t KV = size_t(op.num_kv_heads > 0 ? op.num_kv_heads : op.num_heads);
  const size_t stride = (H + 2 * KV) * D;
  double worst = 0, top = 0;
  std::vector<double> o(D);
  for (size_t i = 0; i < n; ++i) {
    std::fill(o.begin(), o.end(), 0.0);
    for (size_t j = 0; j < n; ++j) {
      if (!w.seen(i, j)) continue;
      const float* v = qkv + j * stride + (H + KV + head) * D;
      for (size_t d = 0; d < D; ++d) o[d] += w.at(i, j) * double(v[d]);
    }
    const float* y = out + i * H * D + head * D;
    for (size_t d = 0; d < D; ++d) {
      // A NaN output counts as an infinite difference.
      const double diff = std::fabs(o[d] - double(y[d]));
      worst = std::max(worst, diff == diff ? diff : INFINITY);
      top = std::max(top, std::fabs(double(y[d])));
    }
  }
  if (out_max) *out_max = top;
  return worst;
}

namespace {
void append(std::string* o, const char* f, ...) __attribute__((format(printf, 2, 3)));
void append(std::string* o, const char* f, ...) {
  char buf[768];
  va_list ap;
  va_start(ap, f);
  const int n = std::vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  if (n > 0) o->append(buf, std::min(size_t(n), sizeof buf - 1));
}

// Fill of a probability as a fraction t of the scale's top, 0..1: white,
// #6baed6 at 0.5, #08306b at 1 (linear in RGB between these stops, as the
// legend's gradient draws them).
void shade(double t, char out[8]) {
  t = std::min(1.0, std::max(0.0, t));
  const int lo[3] = {0xff, 0xff, 0xff}, mid[3] = {0x6b, 0xae, 0xd6}, hi[3] = {0x08, 0x30, 0x6b};
  const int* a = t < 0.5 ? lo : mid;
  const int* b = t < 0.5 ? mid : hi;
  const double u = t < 0.5 ? t * 2 : (t - 0.5) * 2;
  int c[3];
  for (int k = 0; k < 3; ++k) c[k] = int(a[k] + (b[k] - a[k]) * u + 0.5);
  std::snprintf(out, 8, "#%02x%02x%02x", c[0], c[1], c[2]);
}

// A label of at most 20 bytes, cut at a UTF-8 character start, "..." added
// when cut (escaped by the caller).
std::string short_label(const std::string& s) {
  constexpr size_t kMax = 20;
  if (s.size() <= kMax) return s;
  size_t cut = kMax;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xc0) == 0x80) --cut;
  return s.substr(0, cut) + "...";
}
}  // namespace

std::string attention_weights_svg(const AttentionWeights& w, const AttentionSvgLabels& l) {
  const size_t n = w.n;
  // Cells of 2..28 pixels, the grid about 768 pixels wide at most; labels at
  // least 9 pixels apart (every step-th token when cells are smaller).
  const size_t cell = std::max<size_t>(2, std::min<size_t>(28, 768 / std::max<size_t>(n, 1)));
  const size_t step = (9 + cell - 1) / cell;
  const size_t font = std::min<size_t>(12, cell * step - 1);
  size_t label_bytes = 1;
  std::vector<std::string> shown(n);
  for (size_t i = 0; i < n; ++i) {
    shown[i] = short_label(i < l.tokens.size() ? l.tokens[i] : std::string());
    if (i % step == 0) label_bytes = std::max(label_bytes, shown[i].size());
  }
  const size_t label_px = size_t(double(label_bytes) * double(font) * 0.62) + 10;
  const size_t grid = cell * n;
  const size_t left = std::max<size_t>(60, label_px + 10), top = 100 + label_px;
  const size_t legend_x = left + grid + 24;
  std::string pattern = w.pattern;
  if (w.window) pattern += " " + std::to_string(w.window);
  if (!w.detail.empty()) pattern += " (" + w.detail + ")";
  if (w.overridden) pattern += " (session override)";
  // Wide enough for the grid, the legend and the pattern line (about 7 pixels a character).
  const size_t width = std::max<size_t>(std::max<size_t>(legend_x + 150, 820), 160 + pattern.size() * 7);
  const size_t height = std::max<size_t>(top + grid, top + 300) + 30;
  const std::string arch = xml_escape(l.model), name = xml_escape(l.layer_name);
  const std::string what = "layer " + name + " (ATTENTION " + std::to_string(l.layer) + " of " +
                           std::to_string(l.layers) + "), head " + std::to_string(l.head) + " of " +
                           std::to_string(l.heads);

  std::string o;
  o.reserve(8192 + n * n * (n <= 64 ? 120 : 64) + n * n * 12);
  o += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  append(&o,
         "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%zu\" height=\"%zu\" viewBox=\"0 0 %zu %zu\""
         " data-n=\"%zu\" data-layer=\"%zu\" data-head=\"%zu\" data-pattern=\"%s\" data-window=\"%zu\""
         " font-family=\"sans-serif\" font-size=\"12\">\n",
         width, height, width, height, n, l.layer, l.head, w.pattern, w.window);
  o += "<title>Attention weights: " + arch + ", " + what + ", " + pattern + ", N = " + std::to_string(n) +
       " tokens</title>\n";
  // The numbers: ids and every row's probabilities (null where masked).
  append(&o,
         "<metadata id=\"attention-weights\">{\"layer\": %zu, \"layers\": %zu, \"head\": %zu, \"heads\": %zu,"
         " \"n\": %zu, \"pattern\": \"%s\", \"window\": %zu, \"detail\": \"%s\", \"overridden\": %s,"
         " \"check_max_abs\": %.9g, \"out_max_abs\": %.9g, \"ids\": [",
         l.layer, l.layers, l.head, l.heads, n, w.pattern, w.window, w.detail.c_str(), w.overridden ? "true" : "false",
         l.check, l.out_max);
  for (size_t i = 0; i < l.ids.size(); ++i) append(&o, i ? ", %d" : "%d", int(l.ids[i]));
  o += "], \"weights\": [";
  for (size_t i = 0; i < n; ++i) {
    o += i ? ",\n[" : "\n[";
    for (size_t j = 0; j < n; ++j) {
      if (j) o += ", ";
      if (w.seen(i, j)) append(&o, "%.9g", w.at(i, j));
      else o += "null";
    }
    o += "]";
  }
  o += "]}</metadata>\n";
  o += "<defs>\n"
       "<pattern id=\"masked\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\""
       " patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#c8c8c8\"/>"
       "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#7a7a7a\" stroke-width=\"2\"/></pattern>\n"
       "<linearGradient id=\"scale\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">"
       "<stop offset=\"0\" stop-color=\"#ffffff\"/><stop offset=\"0.5\" stop-color=\"#6baed6\"/>"
       "<stop offset=\"1\" stop-color=\"#08306b\"/></linearGradient>\n"
       "</defs>\n";
  o += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
  o += "<text id=\"title\" x=\"10\" y=\"20\" font-size=\"15\" font-weight=\"bold\">Attention weights: " + arch +
       ", " + what + "</text>\n";
  o += "<text id=\"pattern\" x=\"10\" y=\"40\">pattern " + pattern + ", N = " + std::to_string(n) + " tokens</text>\n";
  o += "<text id=\"axes\" x=\"10\" y=\"58\">rows are query tokens, columns key tokens; each row's visible weights"
       " sum to 1</text>\n";
  append(&o,
         "<text id=\"check\" x=\"10\" y=\"76\">computed from the op's own q, k (softmax in double);"
         " applied to its v they give its output within %.3g (largest |output| %.3g)</text>\n",
         l.check, l.out_max);
  // Token labels: keys across the top (rotated), queries down the left.
  o += "<g class=\"labels\" font-size=\"" + std::to_string(font) + "\">\n";
  for (size_t i = 0; i < n; i += step) {
    const std::string t = xml_escape(shown[i]);
    const size_t c = cell / 2 + font / 3;
    append(&o, "<text class=\"token\" data-axis=\"k\" data-i=\"%zu\" x=\"%zu\" y=\"%zu\" transform=\"rotate(-90 %zu %zu)\">",
           i, left + i * cell + c, top - 4, left + i * cell + c, top - 4);
    o += t + "</text>\n";
    append(&o, "<text class=\"token\" data-axis=\"q\" data-i=\"%zu\" x=\"%zu\" y=\"%zu\" text-anchor=\"end\">", i,
           left - 4, top + i * cell + c);
    o += t + "</text>\n";
  }
  o += "</g>\n<g class=\"cells\">\n";
  char fill[8];
  const double top_p = w.max_p > 0 ? w.max_p : 1;
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < n;) {
      if (!w.seen(i, j)) {  // one hatched rect per run of masked keys
        size_t e = j;
        while (e < n && !w.seen(i, e)) ++e;
        append(&o,
               "<rect class=\"masked\" x=\"%zu\" y=\"%zu\" width=\"%zu\" height=\"%zu\" fill=\"url(#masked)\""
               " data-q=\"%zu\" data-k0=\"%zu\" data-k1=\"%zu\"/>\n",
               left + j * cell, top + i * cell, (e - j) * cell, cell, i, j, e);
        j = e;
        continue;
      }
      shade(w.at(i, j) / top_p, fill);
      if (n <= 64) {  // small maps: a tooltip per cell
        append(&o, "<rect x=\"%zu\" y=\"%zu\" width=\"%zu\" height=\"%zu\" fill=\"%s\"><title>", left + j * cell,
               top + i * cell, cell, cell, fill);
        o += xml_escape(shown[i]) + " -&gt; " + xml_escape(shown[j]);
        append(&o, ": %.4f</title></rect>\n", w.at(i, j));
      } else {
        append(&o, "<rect x=\"%zu\" y=\"%zu\" width=\"%zu\" height=\"%zu\" fill=\"%s\"/>\n", left + j * cell,
               top + i * cell, cell, cell, fill);
      }
      ++j;
    }
  }
  append(&o, "</g>\n<rect x=\"%zu\" y=\"%zu\" width=\"%zu\" height=\"%zu\" fill=\"none\" stroke=\"#555555\"/>\n",
         left, top, grid, grid);
  // Legend: the gradient from 0 (bottom) to max_p (top), and the masked swatch.
  const size_t bar = 200;
  append(&o, "<g class=\"legend\"><text x=\"%zu\" y=\"%zu\">weight</text>\n", legend_x, top + 10);
  append(&o, "<rect x=\"%zu\" y=\"%zu\" width=\"16\" height=\"%zu\" fill=\"url(#scale)\" stroke=\"#555555\"/>\n",
         legend_x, top + 20, bar);
  for (int k = 0; k <= 4; ++k) {
    const size_t y = top + 20 + bar - size_t(k) * bar / 4;
    append(&o, "<text x=\"%zu\" y=\"%zu\">%.3g</text>\n", legend_x + 22, y + 4, w.max_p * k / 4);
  }
  append(&o, "<text x=\"%zu\" y=\"%zu\" font-size=\"10\">(0 to the largest weight)</text>\n", legend_x,
         top + bar + 40);
  append(&o,
         "<rect x=\"%zu\" y=\"%zu\" width=\"16\" height=\"16\" fill=\"url(#masked)\" stroke=\"#555555\"/>"
         "<text x=\"%zu\" y=\"%zu\">masked (not visible)</text>\n",
         legend_x, top + bar + 56, legend_x + 22, top + bar + 68);
  o += "</g>\n</svg>\n";
  return o;
}

}  // namespace heed::cli

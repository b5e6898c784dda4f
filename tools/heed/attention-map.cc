#include "attention-map.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>

// Internals on purpose: the visibility rule is the kernels' and the op's own
// (window_begin, attention_key_range, the op's window and ring size), so the
// map cannot drift from what runs; attention_key_ranges is what the
// encoder kernels walk.
#include "kernels/attention/cached-attention.h"
#include "kernels/attention/f32-attention.h"
#include "ops/attention.h"

namespace heed::cli {

AttentionMap attention_map_count(const OpInfo& op, const DecoderSettings& d, bool overridden, size_t seq) {
  AttentionMap m;
  m.seq = seq;
  m.blocks = (seq + kMapBlock - 1) / kMapBlock;
  m.counts.assign(m.blocks * m.blocks, 0);
  m.overridden = overridden;
  const bool cached = attention_cached(op);
  // Each query's visible keys as ranges, as the op's kernels take them.
  size_t window = kNoWindow;
  const AttentionMask mask = attention_mask(op);
  std::vector<KeyRange> ranges(std::max<size_t>(2, attention_max_ranges(mask, seq)));
  const size_t sinks = cached ? size_t(op.sinks) : 0;
  static const char* const kNames[] = {"DENSE", "CAUSAL", "SLIDING_WINDOW", "CAUSAL_WINDOW", "BLOCK_SPARSE"};
  m.pattern = kNames[int(op.pattern)];
  if (cached) {
    window = attention_causal_window(op);
    m.window = window == kNoWindow ? 0 : window;
    if (sinks > 0) m.detail = "sinks: first " + std::to_string(sinks) + " tokens";
  } else {
    m.window = op.pattern == AttnPattern::kSlidingWindow ? size_t(op.window) : 0;
    char buf[160];
    if (op.pattern == AttnPattern::kBlockSparse) {
      std::snprintf(buf, sizeof buf, "block %d: local %d, global blocks %d, stride %d, random %d (seed %d)",
                    op.block_size, op.block_local, op.block_global, op.block_stride, op.block_random, op.block_seed);
      m.detail = buf;
    }
    if (op.global_first > 0 || !op.global_positions.empty()) {
      std::snprintf(buf, sizeof buf, "%sglobal tokens: first %d + %zu listed", m.detail.empty() ? "" : "; ",
                    op.global_first, op.global_positions.size());
      m.detail += buf;
    }
  }
  for (size_t i = 0; i < seq; ++i) {
    size_t nr = 0;
    if (cached) {
      // One run from position 0: query i sits at position p = i (decode
      // token by token sees the same keys: they depend on p only): the sink
      // keys [0, se), then the window's.
      const size_t jb = window_begin(i, window), se = sink_end(jb, sinks);
      if (se > 0) ranges[nr++] = KeyRange{0, uint32_t(se)};
      ranges[nr++] = KeyRange{uint32_t(jb), uint32_t(i + 1)};
    } else {
      nr = attention_key_ranges(mask, seq, i, ranges.data());
    }
    uint32_t* row = &m.counts[(i / kMapBlock) * m.blocks];
    for (size_t r = 0; r < nr; ++r) {
      const size_t jb = ranges[r].begin, je = ranges[r].end;
      for (size_t kb = jb / kMapBlock; kb * kMapBlock < je; ++kb) {
        const size_t lo = std::max(jb, kb * kMapBlock), hi = std::min(je, (kb + 1) * kMapBlock);
        row[kb] += uint32_t(hi - lo);
      }
    }
  }
  for (uint32_t c : m.counts) {
    m.visible += c;
    (c ? m.nonempty : m.empty)++;
  }
  const size_t kv_heads = size_t(op.num_kv_heads > 0 ? op.num_kv_heads : op.num_heads), D = size_t(op.head_dim);
  if (cached) {
    m.cache = true;
    m.kv_int8 = d.kv_int8;
    const size_t ring = attention_cache_positions(window, seq, sinks);
    m.ring = attention_ring(op, seq);
    m.kv_bytes = kv_cache_bytes(ring, kv_heads, D, d.kv_int8, sinks);
    m.kv_positions = ring + kv_cache_round(sinks);  // ring slots, then sink slots
  } else {
    m.kv_positions = seq;
    m.kv_bytes = uint64_t(seq) * 2 * size_t(op.num_heads) * D * sizeof(float);
  }
  return m;
}

namespace {
// Length of the UTF-8 sequence at s[i] and its code point, or 0 if invalid
// (overlong, surrogate, past U+10FFFF, truncated).
size_t utf8_char(std::string_view s, size_t i, uint32_t* cp) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  size_t n = 0;
  uint32_t v = 0, min = 0;
  if (c < 0x80) {
    *cp = c;
    return 1;
  } else if ((c & 0xe0) == 0xc0) {
    n = 2, v = c & 0x1f, min = 0x80;
  } else if ((c & 0xf0) == 0xe0) {
    n = 3, v = c & 0x0f, min = 0x800;
  } else if ((c & 0xf8) == 0xf0) {
    n = 4, v = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    const unsigned char t = static_cast<unsigned char>(s[i + k]);
    if ((t & 0xc0) != 0x80) return 0;
    v = (v << 6) | (t & 0x3f);
  }
  if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return 0;
  *cp = v;
  return n;
}

// XML 1.0 Char, less the C0 controls but tab and the C1 controls.
bool xml_printable(uint32_t cp) {
  if (cp == '\t') return true;
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) return false;
  return cp != 0xfffe && cp != 0xffff;
}

std::string fmt(const char* f, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char* f, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, f);
  const int n = std::vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  return std::string(buf, n < 0 ? 0 : std::min(size_t(n), sizeof buf - 1));
}

// 1234567 -> "1,234,567"
std::string grouped(uint64_t v) {
  std::string d = std::to_string(v), out;
  for (size_t i = 0; i < d.size(); ++i) {
    if (i && (d.size() - i) % 3 == 0) out += ',';
    out += d[i];
  }
  return out;
}

// Cell fill for a count in 1..256: white-blue to dark blue.
std::string shade(uint32_t count) {
  const double t = double(count) / double(kMapBlock * kMapBlock);
  auto mix = [t](int a, int b) { return int(a + (b - a) * t + 0.5); };
  return fmt("#%02x%02x%02x", mix(0xde, 0x08), mix(0xeb, 0x30), mix(0xf7, 0x6b));
}
}  // namespace

std::string xml_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    const size_t n = utf8_char(s, i, &cp);
    if (n == 0 || !xml_printable(cp)) {
      // One byte as \xHH (for an invalid or unprintable sequence, its first byte).
      const size_t len = n == 0 ? 1 : n;
      for (size_t k = 0; k < len; ++k) out += fmt("\\x%02X", unsigned(static_cast<unsigned char>(s[i + k])));
      i += len;
      continue;
    }
    switch (cp) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      case '\\': out += "\\\\"; break;
      default: out.append(s.substr(i, n));
    }
    i += n;
  }
  return out;
}

std::string attention_map_svg(const AttentionMap& m, const AttentionMapLabels& labels) {
  const size_t nb = m.blocks;
  const bool texts = nb <= 32;
  // Cells of 2..32 pixels, the grid about 640 pixels wide at most.
  const size_t cell = std::max<size_t>(2, std::min<size_t>(32, 640 / std::max<size_t>(nb, 1)));
  const size_t grid = cell * nb;
  const size_t left = 80, top = 120, legend_w = 150;
  // At least wide enough for the title lines.
  const size_t width = std::max<size_t>(left + grid + 30 + legend_w, 780), height = top + grid + 60;
  std::string pattern = m.pattern;
  if (m.window) pattern += " " + std::to_string(m.window);
  if (!m.detail.empty()) pattern += " (" + m.detail + ")";
  if (m.overridden) pattern += " (session override)";
  const std::string name = xml_escape(labels.layer_name);
  const uint64_t pairs = uint64_t(m.seq) * m.seq, cells = uint64_t(nb) * nb;
  std::string kv;
  if (m.cache) {
    kv = fmt("%s cache of %zu positions%s, %s bytes", m.kv_int8 ? "int8" : "float", m.kv_positions,
             m.ring ? fmt(" (a ring: window %zu + 64, rounded to 16)", m.window).c_str() : "",
             grouped(m.kv_bytes).c_str());
  } else {
    kv = fmt("no cache: the run's %zu positions, %s bytes of float keys and values", m.kv_positions,
             grouped(m.kv_bytes).c_str());
  }

  std::string o;
  o.reserve(4096 + size_t(m.nonempty) * (texts ? 200 : 110));
  o += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  o += fmt("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%zu\" height=\"%zu\" viewBox=\"0 0 %zu %zu\"", width,
           height, width, height);
  o += fmt(" data-seq=\"%zu\" data-blocks=\"%zu\" data-visible-pairs=\"%llu\" data-nonempty-blocks=\"%llu\""
           " data-empty-blocks=\"%llu\" data-kv-positions=\"%zu\" data-kv-bytes=\"%llu\"",
           m.seq, nb, (unsigned long long)m.visible, (unsigned long long)m.nonempty, (unsigned long long)m.empty,
           m.kv_positions, (unsigned long long)m.kv_bytes);
  o += " font-family=\"sans-serif\" font-size=\"12\">\n";
  o += "<title>Attention map: layer " + name + " (ATTENTION " + std::to_string(labels.layer) + " of " +
       std::to_string(labels.layers) + "), " + pattern + ", N = " + std::to_string(m.seq) + "</title>\n";
  o += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n";
  o += "<text id=\"title\" x=\"10\" y=\"20\" font-size=\"15\" font-weight=\"bold\">Attention map: layer " + name +
       " (ATTENTION " + std::to_string(labels.layer) + " of " + std::to_string(labels.layers) + ", " +
       xml_escape(labels.model) + ")</text>\n";
  o += "<text id=\"pattern\" x=\"10\" y=\"40\">pattern " + pattern + ", N = " + std::to_string(m.seq) + " tokens, " +
       std::to_string(nb) + " x " + std::to_string(nb) + " blocks of 16 (query rows, key columns)</text>\n";
  o += fmt("<text id=\"totals\" x=\"10\" y=\"58\">visible pairs %s of %s; empty blocks skipped %s of %s</text>\n",
           grouped(m.visible).c_str(), grouped(pairs).c_str(), grouped(m.empty).c_str(), grouped(cells).c_str());
  o += "<text id=\"memory\" x=\"10\" y=\"76\">keys/values kept: " + kv + "</text>\n";
  // Axes: token positions at block starts, about 16 labels per axis.
  const size_t step = std::max<size_t>(1, (nb + 15) / 16);
  o += fmt("<text x=\"%zu\" y=\"%zu\" text-anchor=\"middle\">key position</text>\n", left + grid / 2, top - 24);
  o += fmt("<text x=\"16\" y=\"%zu\" text-anchor=\"middle\" transform=\"rotate(-90 16 %zu)\">query position</text>\n",
           top + grid / 2, top + grid / 2);
  o += "<g class=\"axis\" font-size=\"10\">\n";
  for (size_t b = 0; b < nb; b += step) {
    o += fmt("<text x=\"%zu\" y=\"%zu\" text-anchor=\"start\">%zu</text>\n", left + b * cell, top - 6, b * kMapBlock);
    o += fmt("<text x=\"%zu\" y=\"%zu\" text-anchor=\"end\">%zu</text>\n", left - 4, top + b * cell + 9, b * kMapBlock);
  }
  o += "</g>\n<g class=\"grid\">\n";
  for (size_t q = 0; q < nb; ++q) {
    for (size_t k = 0; k < nb; ++k) {
      const uint32_t c = m.at(q, k);
      if (!c) continue;
      o += fmt("<rect class=\"cell\" x=\"%zu\" y=\"%zu\" width=\"%zu\" height=\"%zu\" fill=\"%s\" data-q=\"%zu\""
               " data-k=\"%zu\" data-count=\"%u\"/>\n",
               left + k * cell, top + q * cell, cell, cell, shade(c).c_str(), q, k, unsigned(c));
      if (texts) {
        o += fmt("<text class=\"count\" x=\"%zu\" y=\"%zu\" font-size=\"%zu\" text-anchor=\"middle\""
                 " fill=\"%s\">%u</text>\n",
                 left + k * cell + cell / 2, top + q * cell + cell / 2 + cell / 8, std::max<size_t>(4, cell * 3 / 8),
                 c > 128 ? "#ffffff" : "#000000", unsigned(c));
      }
    }
  }
  o += fmt("</g>\n<rect x=\"%zu\" y=\"%zu\" width=\"%zu\" height=\"%zu\" fill=\"none\" stroke=\"#555555\"/>\n", left,
           top, grid, grid);
  // Legend: the shades of 1, 64, 128, 192 and 256 visible pairs, and empty.
  const size_t lx = left + grid + 30;
  o += fmt("<g class=\"legend\"><text x=\"%zu\" y=\"%zu\">pairs per block</text>\n", lx, top + 10);
  const uint32_t marks[] = {0, 1, 64, 128, 192, 256};
  for (size_t i = 0; i < 6; ++i) {
    const size_t y = top + 20 + i * 22;
    o += fmt("<rect x=\"%zu\" y=\"%zu\" width=\"16\" height=\"16\" fill=\"%s\" stroke=\"#555555\"/>"
             "<text x=\"%zu\" y=\"%zu\">%u%s</text>\n",
             lx, y, marks[i] ? shade(marks[i]).c_str() : "#ffffff", lx + 22, y + 12, unsigned(marks[i]),
             marks[i] == 0 ? " (skipped)" : marks[i] == 256 ? " (full)" : "");
  }
  o += "</g>\n</svg>\n";
  return o;
}

}  // namespace heed::cli

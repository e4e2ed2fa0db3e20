#include "common/http.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <unordered_set>

namespace common::http {
namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

bool iequals_prefix(std::string_view text, std::string_view prefix) {
    if (text.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
    }
    return true;
}

// Removes "." and ".." segments (RFC 3986, 5.2.4), keeping a query as is.
std::string normalize_path(std::string_view path) {
    std::string query;
    if (const auto q = path.find('?'); q != std::string_view::npos) {
        query = std::string(path.substr(q));
        path = path.substr(0, q);
    }
    std::vector<std::string_view> segments;
    std::size_t start = 1;  // path starts with '/'
    bool trailing_slash = false;
    while (start <= path.size()) {
        const std::size_t end = std::min(path.find('/', start), path.size());
        const std::string_view seg = path.substr(start, end - start);
        trailing_slash = false;
        if (seg == "..") {
            if (!segments.empty()) segments.pop_back();
            trailing_slash = true;
        } else if (seg == ".") {
            trailing_slash = true;
        } else {
            segments.push_back(seg);
        }
        start = end + 1;
    }
    std::string out;
    for (std::string_view seg : segments) {
        out += '/';
        out += seg;
    }
    if (out.empty() || trailing_slash) out += '/';
    return out + query;
}

std::string decode_entities(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size();) {
        if (s.substr(i, 5) == "&amp;") {
            out += '&';
            i += 5;
        } else {
            out += s[i++];
        }
    }
    return out;
}

}  // namespace

std::optional<Url> parse_url(std::string_view text) {
    if (!iequals_prefix(text, "http://")) return std::nullopt;
    text.remove_prefix(7);
    if (const auto hash = text.find('#'); hash != std::string_view::npos) text = text.substr(0, hash);
    const std::size_t path_start = std::min(text.find_first_of("/?"), text.size());
    std::string_view authority = text.substr(0, path_start);
    std::string_view path = text.substr(path_start);
    Url url;
    if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
        const std::string_view port_text = authority.substr(colon + 1);
        unsigned value = 0;
        const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
        if (port_text.empty() || ec != std::errc{} || end != port_text.data() + port_text.size() ||
            value == 0 || value > 65535) {
            return std::nullopt;
        }
        url.port = static_cast<std::uint16_t>(value);
        authority = authority.substr(0, colon);
    }
    if (authority.empty() || authority.find_first_of("@ \t") != std::string_view::npos) return std::nullopt;
    url.host = lower(authority);
    // An empty path, or one that starts with the query, is "/".
    std::string full_path(path.size() + 1, '/');
    const bool add_slash = path.empty() || path[0] == '?';
    full_path.replace(add_slash ? 1 : 0, path.size(), path);
    full_path.resize(path.size() + (add_slash ? 1 : 0));
    url.path = normalize_path(full_path);
    return url;
}

std::string to_string(const Url& url) {
    return "http://" + url.host + ":" + std::to_string(url.port) + url.path;
}

std::string get_request(const Url& url) {
    return "GET " + url.path + " HTTP/1.0\r\nHost: " + url.host + ":" + std::to_string(url.port) +
           "\r\nConnection: close\r\n\r\n";
}

std::optional<std::string_view> Response::header(std::string_view lower_name) const {
    for (const auto& [name, value] : headers) {
        if (name == lower_name) return value;
    }
    return std::nullopt;
}

namespace {

constexpr std::size_t kMaxHeaderBytes = 64 * 1024;

// Where the header section ends and the body starts, or npos. Only the first
// kMaxHeaderBytes are searched: a reader asks after every chunk it receives,
// and a longer header section is an error whatever follows.
std::pair<std::size_t, std::size_t> find_header_end(std::string_view raw) {
    raw = raw.substr(0, kMaxHeaderBytes + 4);
    const std::size_t crlf = raw.find("\r\n\r\n");
    const std::size_t lf = raw.find("\n\n");
    if (crlf != std::string_view::npos && (lf == std::string_view::npos || crlf < lf)) {
        return {crlf, crlf + 4};
    }
    if (lf != std::string_view::npos) return {lf, lf + 2};
    return {std::string_view::npos, std::string_view::npos};
}

// True when no more bytes can bring the end of the header section into the
// part find_header_end() searches.
bool header_section_too_large(std::string_view raw) { return raw.size() >= kMaxHeaderBytes + 4; }

std::optional<std::size_t> parse_content_length(std::string_view value) {
    value = trim(value);
    std::size_t n = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
    if (value.empty() || ec != std::errc{} || end != value.data() + value.size()) return std::nullopt;
    return n;
}

// Whether a response whose body starts at `body_start` and is `length` bytes
// long fits in kMaxResponseBytes, written so that no sum can overflow.
bool fits(std::size_t body_start, std::size_t length) {
    return body_start <= kMaxResponseBytes && length <= kMaxResponseBytes - body_start;
}

ProtocolError too_large() {
    return ProtocolError("response larger than " + std::to_string(kMaxResponseBytes / (1024 * 1024)) + " MiB");
}

// The status line and headers of `head` (the header section without the
// blank line that ends it); the body is left empty.
Response parse_head(std::string_view head) {
    Response response;

    // Status line: HTTP/1.x SP 3DIGIT [SP reason]
    std::size_t line_end = std::min(head.find('\n'), head.size());
    const std::string_view status_line = trim(head.substr(0, line_end));
    if (!(status_line.substr(0, 7) == "HTTP/1." && status_line.size() >= 12 &&
          std::isdigit(static_cast<unsigned char>(status_line[7])) && status_line[8] == ' ')) {
        throw ProtocolError("malformed status line: '" + std::string(status_line.substr(0, 80)) + "'");
    }
    const std::string_view code = status_line.substr(9, 3);
    if (!std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        (status_line.size() > 12 && status_line[12] != ' ')) {
        throw ProtocolError("malformed status code: '" + std::string(status_line.substr(0, 80)) + "'");
    }
    response.status = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
    response.reason = status_line.size() > 13 ? std::string(status_line.substr(13)) : "";

    // Headers: name ":" value, or a continuation of the previous value.
    std::size_t pos = line_end + 1;
    while (pos < head.size()) {
        line_end = std::min(head.find('\n', pos), head.size());
        std::string_view line = head.substr(pos, line_end - pos);
        pos = line_end + 1;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        // The leading whitespace is what marks a continuation, so look at it
        // before trimming: trimmed, "\tContent-Length: 0" would pass for a
        // header of its own.
        if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
            if (response.headers.empty()) {
                throw ProtocolError("header continuation with no header before it: '" +
                                    std::string(trim(line).substr(0, 80)) + "'");
            }
            const std::string_view more = trim(line);
            std::string& value = response.headers.back().second;
            if (!more.empty()) {
                value += value.empty() ? "" : " ";
                value += more;
            }
            continue;
        }
        line = trim(line);
        if (line.empty()) continue;
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0 ||
            line.substr(0, colon).find_first_of(" \t") != std::string_view::npos) {
            throw ProtocolError("malformed header line: '" + std::string(line.substr(0, 80)) + "'");
        }
        response.headers.emplace_back(lower(line.substr(0, colon)), std::string(trim(line.substr(colon + 1))));
    }
    return response;
}

}  // namespace

Response parse_response(std::string_view raw) {
    const auto [head_end, body_start] = find_header_end(raw);
    if (head_end == std::string_view::npos) {
        if (raw.empty()) throw ProtocolError("empty response");
        if (header_section_too_large(raw)) throw ProtocolError("header section larger than 64 KiB");
        throw ProtocolError("response ended inside its headers");
    }
    if (head_end > kMaxHeaderBytes) throw ProtocolError("header section larger than 64 KiB");
    Response response = parse_head(raw.substr(0, head_end));

    std::string_view body = raw.substr(body_start);
    if (const auto length_text = response.header("content-length")) {
        const auto length = parse_content_length(*length_text);
        if (!length) throw ProtocolError("bad Content-Length: '" + std::string(*length_text) + "'");
        if (!fits(body_start, *length)) throw too_large();
        if (body.size() < *length) {
            throw ProtocolError("truncated body: " + std::to_string(body.size()) + " of " +
                                std::to_string(*length) + " bytes");
        }
        body = body.substr(0, *length);
    } else if (raw.size() > kMaxResponseBytes) {
        throw too_large();
    }
    response.body = std::string(body);
    return response;
}

bool response_complete(std::string_view raw) {
    const auto [head_end, body_start] = find_header_end(raw);
    if (head_end == std::string_view::npos) return header_section_too_large(raw);
    if (head_end > kMaxHeaderBytes) return true;
    Response head;
    try {
        head = parse_head(raw.substr(0, head_end));
    } catch (const ProtocolError&) {
        return true;  // malformed: more bytes cannot repair it
    }
    if (const auto length_text = head.header("content-length")) {
        const auto length = parse_content_length(*length_text);
        return !length || !fits(body_start, *length) || raw.size() - body_start >= *length;
    }
    return raw.size() > kMaxResponseBytes;
}

std::vector<Url> extract_links(const Url& base, std::string_view html) {
    const std::string host = lower(base.host);
    std::vector<Url> links;
    // Every kept link has base's host and port, so the path alone tells two
    // apart; a hash set keeps a page of many links linear, not quadratic.
    std::unordered_set<std::string> seen_paths;
    std::size_t pos = 0;
    while (true) {
        // find "href" case-insensitively
        std::size_t at = std::string_view::npos;
        for (std::size_t i = pos; i + 4 <= html.size(); ++i) {
            if (iequals_prefix(html.substr(i), "href")) {
                at = i;
                break;
            }
        }
        if (at == std::string_view::npos) break;
        std::size_t i = at + 4;
        pos = i;
        while (i < html.size() && std::isspace(static_cast<unsigned char>(html[i]))) ++i;
        if (i >= html.size() || html[i] != '=') continue;
        ++i;
        while (i < html.size() && std::isspace(static_cast<unsigned char>(html[i]))) ++i;
        if (i >= html.size() || (html[i] != '"' && html[i] != '\'')) continue;
        const char quote = html[i++];
        const std::size_t close = html.find(quote, i);
        if (close == std::string_view::npos) break;
        pos = close + 1;
        std::string ref = decode_entities(trim(html.substr(i, close - i)));
        if (const auto hash = ref.find('#'); hash != std::string::npos) ref.resize(hash);
        if (ref.empty()) continue;  // "#frag" alone: the page itself

        std::optional<Url> url;
        if (iequals_prefix(ref, "http://")) {
            url = parse_url(ref);
        } else if (ref.rfind("//", 0) == 0) {
            url = parse_url("http:" + ref);
        } else if (ref.find(':') != std::string::npos &&
                   ref.find(':') < std::min(ref.find('/'), ref.find('?'))) {
            continue;  // another scheme: mailto:, javascript:, https:
        } else {
            // parse_url lower-cases the host of an absolute link; do the same
            // here, or one page would be two URLs to a crawler's `seen` set.
            Url resolved{host, base.port, ""};
            const std::string base_path = base.path.substr(0, base.path.find('?'));
            if (ref[0] == '/') {
                resolved.path = normalize_path(ref);
            } else if (ref[0] == '?') {
                resolved.path = base_path + ref;
            } else {
                resolved.path = normalize_path(base_path.substr(0, base_path.rfind('/') + 1) + ref);
            }
            url = std::move(resolved);
        }
        if (!url || url->host != host || url->port != base.port) continue;
        if (seen_paths.insert(url->path).second) links.push_back(std::move(*url));
    }
    return links;
}

}  // namespace common::http

// STIX 2.1 vocabularies (OASIS STIX 2.1 section 10) and closed enumerations.
// Open vocabularies ("-ov") allow other values (a warning); enumerations
// ("-enum") do not (an error). Constant data, thread-safe.
#pragma once

#include <initializer_list>
#include <string_view>

namespace ctihub::stix {

struct Vocab {
  std::string_view name;
  std::initializer_list<std::string_view> values;
  bool closed;

  bool Contains(std::string_view v) const {
    for (std::string_view x : values) {
      if (x == v) return true;
    }
    return false;
  }
};

namespace vocab {
using namespace std::string_view_literals;

inline const Vocab kAttackMotivation{
    "attack-motivation-ov",
    {"accidental", "coercion", "dominance", "ideology", "notoriety", "organizational-gain",
     "personal-gain", "personal-satisfaction", "revenge", "unpredictable"},
    false};
inline const Vocab kAttackResourceLevel{
    "attack-resource-level-ov",
    {"individual", "club", "contest", "team", "organization", "government"},
    false};
inline const Vocab kGroupingContext{
    "grouping-context-ov", {"suspicious-activity", "malware-analysis", "unspecified"}, false};
inline const Vocab kIdentityClass{
    "identity-class-ov",
    {"individual", "group", "system", "organization", "class", "unknown"},
    false};
inline const Vocab kImplementationLanguage{
    "implementation-language-ov",
    {"applescript", "bash",  "c",           "c++",        "c#",           "go",         "java",
     "javascript",  "lua",   "objective-c", "perl",       "php",          "powershell", "python",
     "ruby",        "scala", "swift",       "typescript", "visual-basic", "x86-32",     "x86-64"},
    false};
inline const Vocab kIndicatorType{"indicator-type-ov",
                                  {"anomalous-activity", "anonymization", "benign", "compromised",
                                   "malicious-activity", "attribution", "unknown"},
                                  false};
inline const Vocab kIndustrySector{"industry-sector-ov",
                                   {"agriculture",
                                    "aerospace",
                                    "automotive",
                                    "chemical",
                                    "commercial",
                                    "communications",
                                    "construction",
                                    "defense",
                                    "education",
                                    "energy",
                                    "engineering",
                                    "entertainment",
                                    "financial-services",
                                    "government",
                                    "emergency-services",
                                    "government-local",
                                    "government-national",
                                    "government-public-services",
                                    "government-regional",
                                    "healthcare",
                                    "hospitality-leisure",
                                    "infrastructure",
                                    "dams",
                                    "nuclear",
                                    "water",
                                    "insurance",
                                    "manufacturing",
                                    "mining",
                                    "non-profit",
                                    "pharmaceuticals",
                                    "retail",
                                    "technology",
                                    "telecommunications",
                                    "transportation",
                                    "utilities"},
                                   false};
inline const Vocab kInfrastructureType{
    "infrastructure-type-ov",
    {"amplification", "anonymization", "botnet", "command-and-control", "control-system",
     "exfiltration", "firewall", "hosting-malware", "hosting-target-lists", "phishing",
     "reconnaissance", "routers-switches", "staging", "workstation", "unknown"},
    false};
inline const Vocab kMalwareResult{
    "malware-result-ov", {"malicious", "suspicious", "benign", "unknown"}, false};
inline const Vocab kMalwareCapabilities{"malware-capabilities-ov",
                                        {"accesses-remote-machines",
                                         "anti-debugging",
                                         "anti-disassembly",
                                         "anti-emulation",
                                         "anti-memory-forensics",
                                         "anti-sandbox",
                                         "anti-vm",
                                         "captures-input-peripherals",
                                         "captures-output-peripherals",
                                         "captures-system-state-data",
                                         "cleans-traces-of-infection",
                                         "commits-fraud",
                                         "communicates-with-c2",
                                         "compromises-data-availability",
                                         "compromises-data-integrity",
                                         "compromises-system-availability",
                                         "controls-local-machine",
                                         "degrades-security-software",
                                         "degrades-system-updates",
                                         "determines-c2-server",
                                         "emails-spam",
                                         "escalates-privileges",
                                         "evades-av",
                                         "exfiltrates-data",
                                         "fingerprints-host",
                                         "hides-artifacts",
                                         "hides-executing-code",
                                         "infects-files",
                                         "infects-remote-machines",
                                         "installs-other-components",
                                         "persists-after-system-reboot",
                                         "prevents-artifact-access",
                                         "prevents-artifact-deletion",
                                         "probes-network-environment",
                                         "self-modifies",
                                         "steals-authentication-credentials",
                                         "violates-system-operational-integrity"},
                                        false};
inline const Vocab kMalwareType{"malware-type-ov",
                                {"adware",
                                 "backdoor",
                                 "bot",
                                 "bootkit",
                                 "ddos",
                                 "downloader",
                                 "dropper",
                                 "exploit-kit",
                                 "keylogger",
                                 "ransomware",
                                 "remote-access-trojan",
                                 "resource-exploitation",
                                 "rogue-security-software",
                                 "rootkit",
                                 "screen-capture",
                                 "spyware",
                                 "trojan",
                                 "unknown",
                                 "virus",
                                 "webshell",
                                 "wiper",
                                 "worm"},
                                false};
inline const Vocab kPatternType{
    "pattern-type-ov", {"stix", "pcre", "sigma", "snort", "suricata", "yara"}, false};
inline const Vocab kProcessorArchitecture{
    "processor-architecture-ov",
    {"alpha", "arm", "ia-64", "mips", "powerpc", "sparc", "x86", "x86-64"},
    false};
inline const Vocab kRegion{"region-ov",
                           {"africa",
                            "eastern-africa",
                            "middle-africa",
                            "northern-africa",
                            "southern-africa",
                            "western-africa",
                            "americas",
                            "latin-america-caribbean",
                            "south-america",
                            "caribbean",
                            "central-america",
                            "northern-america",
                            "asia",
                            "central-asia",
                            "eastern-asia",
                            "southern-asia",
                            "south-eastern-asia",
                            "western-asia",
                            "europe",
                            "eastern-europe",
                            "northern-europe",
                            "southern-europe",
                            "western-europe",
                            "oceania",
                            "australia-new-zealand",
                            "melanesia",
                            "micronesia",
                            "polynesia",
                            "antarctica"},
                           false};
inline const Vocab kReportType{
    "report-type-ov",
    {"attack-pattern", "campaign", "identity", "indicator", "intrusion-set", "malware",
     "observed-data", "threat-actor", "threat-report", "tool", "vulnerability"},
    false};
inline const Vocab kThreatActorType{
    "threat-actor-type-ov",
    {"activist", "competitor", "crime-syndicate", "criminal", "hacker", "insider-accidental",
     "insider-disgruntled", "nation-state", "sensationalist", "spy", "terrorist", "unknown"},
    false};
inline const Vocab kThreatActorRole{"threat-actor-role-ov",
                                    {"agent", "director", "independent", "infrastructure-architect",
                                     "infrastructure-operator", "malware-author", "sponsor"},
                                    false};
inline const Vocab kThreatActorSophistication{
    "threat-actor-sophistication-ov",
    {"none", "minimal", "intermediate", "advanced", "expert", "innovator", "strategic"},
    false};
inline const Vocab kToolType{
    "tool-type-ov",
    {"denial-of-service", "exploitation", "information-gathering", "network-capture",
     "credential-exploitation", "remote-access", "vulnerability-scanning", "unknown"},
    false};
inline const Vocab kAccountType{"account-type-ov",
                                {"facebook", "ldap", "nis", "openid", "radius", "skype", "tacacs",
                                 "twitter", "unix", "windows-local", "windows-domain"},
                                false};
inline const Vocab kHashAlgorithm{
    "hash-algorithm-ov",
    {"MD5", "SHA-1", "SHA-256", "SHA-512", "SHA3-256", "SHA3-512", "SSDEEP", "TLSH"},
    false};
inline const Vocab kPeBinaryType{"windows-pebinary-type-ov", {"dll", "exe", "sys"}, false};

inline const Vocab kEncryptionAlgorithm{
    "encryption-algorithm-enum", {"AES-256-GCM", "ChaCha20-Poly1305", "mime-type-indicated"}, true};
inline const Vocab kExtensionType{
    "extension-type-enum",
    {"new-sdo", "new-sco", "new-sro", "property-extension", "toplevel-property-extension"},
    true};
inline const Vocab kNetworkSocketAddressFamily{"network-socket-address-family-enum",
                                               {"AF_UNSPEC", "AF_INET", "AF_IPX", "AF_APPLETALK",
                                                "AF_NETBIOS", "AF_INET6", "AF_IRDA", "AF_BTH"},
                                               true};
inline const Vocab kNetworkSocketType{
    "network-socket-type-enum",
    {"SOCK_STREAM", "SOCK_DGRAM", "SOCK_RAW", "SOCK_RDM", "SOCK_SEQPACKET"},
    true};
inline const Vocab kOpinion{
    "opinion-enum", {"strongly-disagree", "disagree", "neutral", "agree", "strongly-agree"}, true};
inline const Vocab kWindowsIntegrityLevel{
    "windows-integrity-level-enum", {"low", "medium", "high", "system"}, true};
inline const Vocab kWindowsRegistryDatatype{
    "windows-registry-datatype-enum",
    {"REG_NONE", "REG_SZ", "REG_EXPAND_SZ", "REG_BINARY", "REG_DWORD", "REG_DWORD_BIG_ENDIAN",
     "REG_DWORD_LITTLE_ENDIAN", "REG_LINK", "REG_MULTI_SZ", "REG_RESOURCE_LIST",
     "REG_FULL_RESOURCE_DESCRIPTION", "REG_RESOURCE_REQUIREMENTS_LIST", "REG_QWORD",
     "REG_INVALID_TYPE"},
    true};
inline const Vocab kWindowsServiceStartType{
    "windows-service-start-type-enum",
    {"SERVICE_AUTO_START", "SERVICE_BOOT_START", "SERVICE_DEMAND_START", "SERVICE_DISABLED",
     "SERVICE_SYSTEM_ALERT"},
    true};
inline const Vocab kWindowsServiceType{"windows-service-type-enum",
                                       {"SERVICE_KERNEL_DRIVER", "SERVICE_FILE_SYSTEM_DRIVER",
                                        "SERVICE_WIN32_OWN_PROCESS", "SERVICE_WIN32_SHARE_PROCESS"},
                                       true};
inline const Vocab kWindowsServiceStatus{
    "windows-service-status-enum",
    {"SERVICE_CONTINUE_PENDING", "SERVICE_PAUSE_PENDING", "SERVICE_PAUSED", "SERVICE_RUNNING",
     "SERVICE_START_PENDING", "SERVICE_STOP_PENDING", "SERVICE_STOPPED"},
    true};
// Closed in the specification's text, but custom marking definitions use
// extensions and other types: a warning, as the reference validator does.
inline const Vocab kMarkingDefinitionType{"marking-definition-type", {"statement", "tlp"}, false};

// ISO 3166-1 alpha-2 country codes (location.country, section 4.10; checked
// case-insensitively, as the reference validator does). From Debian's iso-codes.
inline constexpr std::string_view kCountryCodes[] = {
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW",
};

// ISO 639-1 and ISO 639-2 (terminology and bibliographic) language codes: the
// primary language subtags of software.languages (section 6.14). From
// Debian's iso-codes; the 639-2 local-use range qaa-qtz is not included.
inline constexpr std::string_view kLanguageCodes[] = {
    "aa",  "aar", "ab",  "abk", "ace", "ach", "ada", "ady", "ae",  "af",  "afa", "afh", "afr",
    "ain", "ak",  "aka", "akk", "alb", "ale", "alg", "alt", "am",  "amh", "an",  "ang", "anp",
    "apa", "ar",  "ara", "arc", "arg", "arm", "arn", "arp", "art", "arw", "as",  "asm", "ast",
    "ath", "aus", "av",  "ava", "ave", "awa", "ay",  "aym", "az",  "aze", "ba",  "bad", "bai",
    "bak", "bal", "bam", "ban", "baq", "bas", "bat", "be",  "bej", "bel", "bem", "ben", "ber",
    "bg",  "bh",  "bho", "bi",  "bih", "bik", "bin", "bis", "bla", "bm",  "bn",  "bnt", "bo",
    "bod", "bos", "br",  "bra", "bre", "bs",  "btk", "bua", "bug", "bul", "bur", "byn", "ca",
    "cad", "cai", "car", "cat", "cau", "ce",  "ceb", "cel", "ces", "ch",  "cha", "chb", "che",
    "chg", "chi", "chk", "chm", "chn", "cho", "chp", "chr", "chu", "chv", "chy", "cmc", "cnr",
    "co",  "cop", "cor", "cos", "cpe", "cpf", "cpp", "cr",  "cre", "crh", "crp", "cs",  "csb",
    "cu",  "cus", "cv",  "cy",  "cym", "cze", "da",  "dak", "dan", "dar", "day", "de",  "del",
    "den", "deu", "dgr", "din", "div", "doi", "dra", "dsb", "dua", "dum", "dut", "dv",  "dyu",
    "dz",  "dzo", "ee",  "efi", "egy", "eka", "el",  "ell", "elx", "en",  "eng", "enm", "eo",
    "epo", "es",  "est", "et",  "eu",  "eus", "ewe", "ewo", "fa",  "fan", "fao", "fas", "fat",
    "ff",  "fi",  "fij", "fil", "fin", "fiu", "fj",  "fo",  "fon", "fr",  "fra", "fre", "frm",
    "fro", "frr", "frs", "fry", "ful", "fur", "fy",  "ga",  "gaa", "gay", "gba", "gd",  "gem",
    "geo", "ger", "gez", "gil", "gl",  "gla", "gle", "glg", "glv", "gmh", "gn",  "goh", "gon",
    "gor", "got", "grb", "grc", "gre", "grn", "gsw", "gu",  "guj", "gv",  "gwi", "ha",  "hai",
    "hat", "hau", "haw", "he",  "heb", "her", "hi",  "hil", "him", "hin", "hit", "hmn", "hmo",
    "ho",  "hr",  "hrv", "hsb", "ht",  "hu",  "hun", "hup", "hy",  "hye", "hz",  "ia",  "iba",
    "ibo", "ice", "id",  "ido", "ie",  "ig",  "ii",  "iii", "ijo", "ik",  "iku", "ile", "ilo",
    "ina", "inc", "ind", "ine", "inh", "io",  "ipk", "ira", "iro", "is",  "isl", "it",  "ita",
    "iu",  "ja",  "jav", "jbo", "jpn", "jpr", "jrb", "jv",  "ka",  "kaa", "kab", "kac", "kal",
    "kam", "kan", "kar", "kas", "kat", "kau", "kaw", "kaz", "kbd", "kg",  "kha", "khi", "khm",
    "kho", "ki",  "kik", "kin", "kir", "kj",  "kk",  "kl",  "km",  "kmb", "kn",  "ko",  "kok",
    "kom", "kon", "kor", "kos", "kpe", "kr",  "krc", "krl", "kro", "kru", "ks",  "ku",  "kua",
    "kum", "kur", "kut", "kv",  "kw",  "ky",  "la",  "lad", "lah", "lam", "lao", "lat", "lav",
    "lb",  "lez", "lg",  "li",  "lim", "lin", "lit", "ln",  "lo",  "lol", "loz", "lt",  "ltz",
    "lu",  "lua", "lub", "lug", "lui", "lun", "luo", "lus", "lv",  "mac", "mad", "mag", "mah",
    "mai", "mak", "mal", "man", "mao", "map", "mar", "mas", "may", "mdf", "mdr", "men", "mg",
    "mga", "mh",  "mi",  "mic", "min", "mis", "mk",  "mkd", "mkh", "ml",  "mlg", "mlt", "mn",
    "mnc", "mni", "mno", "moh", "mon", "mos", "mr",  "mri", "ms",  "msa", "mt",  "mul", "mun",
    "mus", "mwl", "mwr", "my",  "mya", "myn", "myv", "na",  "nah", "nai", "nap", "nau", "nav",
    "nb",  "nbl", "nd",  "nde", "ndo", "nds", "ne",  "nep", "new", "ng",  "nia", "nic", "niu",
    "nl",  "nld", "nn",  "nno", "no",  "nob", "nog", "non", "nor", "nqo", "nr",  "nso", "nub",
    "nv",  "nwc", "ny",  "nya", "nym", "nyn", "nyo", "nzi", "oc",  "oci", "oj",  "oji", "om",
    "or",  "ori", "orm", "os",  "osa", "oss", "ota", "oto", "pa",  "paa", "pag", "pal", "pam",
    "pan", "pap", "pau", "peo", "per", "phi", "phn", "pi",  "pl",  "pli", "pol", "pon", "por",
    "pra", "pro", "ps",  "pt",  "pus", "qu",  "que", "raj", "rap", "rar", "rm",  "rn",  "ro",
    "roa", "roh", "rom", "ron", "ru",  "rum", "run", "rup", "rus", "rw",  "sa",  "sad", "sag",
    "sah", "sai", "sal", "sam", "san", "sas", "sat", "sc",  "scn", "sco", "sd",  "se",  "sel",
    "sem", "sg",  "sga", "sgn", "shn", "si",  "sid", "sin", "sio", "sit", "sk",  "sl",  "sla",
    "slk", "slo", "slv", "sm",  "sma", "sme", "smi", "smj", "smn", "smo", "sms", "sn",  "sna",
    "snd", "snk", "so",  "sog", "som", "son", "sot", "spa", "sq",  "sqi", "sr",  "srd", "srn",
    "srp", "srr", "ss",  "ssa", "ssw", "st",  "su",  "suk", "sun", "sus", "sux", "sv",  "sw",
    "swa", "swe", "syc", "syr", "ta",  "tah", "tai", "tam", "tat", "te",  "tel", "tem", "ter",
    "tet", "tg",  "tgk", "tgl", "th",  "tha", "ti",  "tib", "tig", "tir", "tiv", "tk",  "tkl",
    "tl",  "tlh", "tli", "tmh", "tn",  "to",  "tog", "ton", "tpi", "tr",  "ts",  "tsi", "tsn",
    "tso", "tt",  "tuk", "tum", "tup", "tur", "tut", "tvl", "tw",  "twi", "ty",  "tyv", "udm",
    "ug",  "uga", "uig", "uk",  "ukr", "umb", "und", "ur",  "urd", "uz",  "uzb", "vai", "ve",
    "ven", "vi",  "vie", "vo",  "vol", "vot", "wa",  "wak", "wal", "war", "was", "wel", "wen",
    "wln", "wo",  "wol", "xal", "xh",  "xho", "yao", "yap", "yi",  "yid", "yo",  "yor", "ypk",
    "za",  "zap", "zbl", "zen", "zgh", "zh",  "zha", "zho", "znd", "zu",  "zul", "zun", "zxx",
    "zza",
};

// The specification's suggested relationships (STIX 2.1 section 4, each SDO's
// "Relationships" table, summarised in Appendix B): source type ->
// relationship type -> target types. derived-from, duplicate-of and
// related-to apply to every object (section 5.1.1) and are not listed.
struct SuggestedRelationship {
  std::string_view source;
  std::string_view type;
  std::initializer_list<std::string_view> targets;
};

inline const SuggestedRelationship kSuggestedRelationships[] = {
    {"attack-pattern", "delivers", {"malware"}},
    {"attack-pattern", "targets", {"identity", "location", "vulnerability"}},
    {"attack-pattern", "uses", {"malware", "tool"}},
    {"campaign", "attributed-to", {"intrusion-set", "threat-actor"}},
    {"campaign", "compromises", {"infrastructure"}},
    {"campaign", "originates-from", {"location"}},
    {"campaign", "targets", {"identity", "location", "vulnerability"}},
    {"campaign", "uses", {"attack-pattern", "infrastructure", "malware", "tool"}},
    {"course-of-action", "investigates", {"indicator"}},
    {"course-of-action",
     "mitigates",
     {"attack-pattern", "indicator", "malware", "tool", "vulnerability"}},
    {"course-of-action", "remediates", {"malware", "vulnerability"}},
    {"domain-name", "resolves-to", {"domain-name", "ipv4-addr", "ipv6-addr"}},
    {"identity", "located-at", {"location"}},
    {"indicator",
     "indicates",
     {"attack-pattern", "campaign", "infrastructure", "intrusion-set", "malware", "threat-actor",
      "tool"}},
    {"indicator", "based-on", {"observed-data"}},
    {"infrastructure",
     "communicates-with",
     {"infrastructure", "ipv4-addr", "ipv6-addr", "domain-name", "url"}},
    {"infrastructure",
     "consists-of",
     {"infrastructure",
      "observed-data",
      "artifact",
      "autonomous-system",
      "directory",
      "domain-name",
      "email-addr",
      "email-message",
      "file",
      "ipv4-addr",
      "ipv6-addr",
      "mac-addr",
      "mutex",
      "network-traffic",
      "process",
      "software",
      "url",
      "user-account",
      "windows-registry-key",
      "x509-certificate"}},
    {"infrastructure", "controls", {"infrastructure", "malware"}},
    {"infrastructure", "delivers", {"malware"}},
    {"infrastructure", "has", {"vulnerability"}},
    {"infrastructure", "hosts", {"tool", "malware"}},
    {"infrastructure", "located-at", {"location"}},
    {"infrastructure", "uses", {"infrastructure"}},
    {"intrusion-set", "attributed-to", {"threat-actor"}},
    {"intrusion-set", "compromises", {"infrastructure"}},
    {"intrusion-set", "hosts", {"infrastructure"}},
    {"intrusion-set", "originates-from", {"location"}},
    {"intrusion-set", "owns", {"infrastructure"}},
    {"intrusion-set", "targets", {"identity", "location", "vulnerability"}},
    {"intrusion-set", "uses", {"attack-pattern", "infrastructure", "malware", "tool"}},
    {"ipv4-addr", "resolves-to", {"mac-addr"}},
    {"ipv4-addr", "belongs-to", {"autonomous-system"}},
    {"ipv6-addr", "resolves-to", {"mac-addr"}},
    {"ipv6-addr", "belongs-to", {"autonomous-system"}},
    {"malware", "authored-by", {"threat-actor", "intrusion-set"}},
    {"malware", "beacons-to", {"infrastructure"}},
    {"malware", "exfiltrates-to", {"infrastructure"}},
    {"malware", "communicates-with", {"ipv4-addr", "ipv6-addr", "domain-name", "url"}},
    {"malware", "controls", {"malware"}},
    {"malware", "downloads", {"malware", "file", "tool"}},
    {"malware", "drops", {"malware", "file", "tool"}},
    {"malware", "exploits", {"vulnerability"}},
    {"malware", "originates-from", {"location"}},
    {"malware", "targets", {"identity", "infrastructure", "location", "vulnerability"}},
    {"malware", "uses", {"attack-pattern", "infrastructure", "malware", "tool"}},
    {"malware", "variant-of", {"malware"}},
    {"malware-analysis", "characterizes", {"malware"}},
    {"malware-analysis", "analysis-of", {"malware"}},
    {"malware-analysis", "static-analysis-of", {"malware"}},
    {"malware-analysis", "dynamic-analysis-of", {"malware"}},
    {"threat-actor", "attributed-to", {"identity"}},
    {"threat-actor", "compromises", {"infrastructure"}},
    {"threat-actor", "hosts", {"infrastructure"}},
    {"threat-actor", "owns", {"infrastructure"}},
    {"threat-actor", "impersonates", {"identity"}},
    {"threat-actor", "located-at", {"location"}},
    {"threat-actor", "targets", {"identity", "location", "vulnerability"}},
    {"threat-actor", "uses", {"attack-pattern", "infrastructure", "malware", "tool"}},
    {"tool", "delivers", {"malware"}},
    {"tool", "drops", {"malware"}},
    {"tool", "has", {"vulnerability"}},
    {"tool", "targets", {"identity", "infrastructure", "location", "vulnerability"}},
    {"tool", "uses", {"infrastructure"}},
};

}  // namespace vocab
}  // namespace ctihub::stix

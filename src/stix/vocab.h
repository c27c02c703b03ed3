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

inline const Vocab kAttackMotivation{"attack-motivation-ov",
                                     {"accidental", "coercion", "dominance", "ideology", "notoriety",
                                      "organizational-gain", "personal-gain", "personal-satisfaction", "revenge",
                                      "unpredictable"},
                                     false};
inline const Vocab kAttackResourceLevel{
    "attack-resource-level-ov", {"individual", "club", "contest", "team", "organization", "government"}, false};
inline const Vocab kGroupingContext{"grouping-context-ov", {"suspicious-activity", "malware-analysis", "unspecified"},
                                    false};
inline const Vocab kIdentityClass{
    "identity-class-ov", {"individual", "group", "system", "organization", "class", "unknown"}, false};
inline const Vocab kImplementationLanguage{
    "implementation-language-ov",
    {"applescript", "bash", "c", "c++", "c#", "go", "java", "javascript", "lua", "objective-c", "perl", "php",
     "powershell", "python", "ruby", "scala", "swift", "typescript", "visual-basic", "x86-32", "x86-64"},
    false};
inline const Vocab kIndicatorType{"indicator-type-ov",
                                  {"anomalous-activity", "anonymization", "benign", "compromised",
                                   "malicious-activity", "attribution", "unknown"},
                                  false};
inline const Vocab kIndustrySector{
    "industry-sector-ov",
    {"agriculture", "aerospace", "automotive", "chemical", "commercial", "communications", "construction", "defense",
     "education", "energy", "engineering", "entertainment", "financial-services", "government", "emergency-services",
     "government-local", "government-national", "government-public-services", "government-regional", "healthcare",
     "hospitality-leisure", "infrastructure", "dams", "nuclear", "water", "insurance", "manufacturing", "mining",
     "non-profit", "pharmaceuticals", "retail", "technology", "telecommunications", "transportation", "utilities"},
    false};
inline const Vocab kInfrastructureType{"infrastructure-type-ov",
                                       {"amplification", "anonymization", "botnet", "command-and-control",
                                        "control-system", "exfiltration", "firewall", "hosting-malware",
                                        "hosting-target-lists", "phishing", "reconnaissance", "routers-switches",
                                        "staging", "workstation", "unknown"},
                                       false};
inline const Vocab kMalwareResult{"malware-result-ov", {"malicious", "suspicious", "benign", "unknown"}, false};
inline const Vocab kMalwareCapabilities{
    "malware-capabilities-ov",
    {"accesses-remote-machines", "anti-debugging", "anti-disassembly", "anti-emulation", "anti-memory-forensics",
     "anti-sandbox", "anti-vm", "captures-input-peripherals", "captures-output-peripherals",
     "captures-system-state-data", "cleans-traces-of-infection", "commits-fraud", "communicates-with-c2",
     "compromises-data-availability", "compromises-data-integrity", "compromises-system-availability",
     "controls-local-machine", "degrades-security-software", "degrades-system-updates", "determines-c2-server",
     "emails-spam", "escalates-privileges", "evades-av", "exfiltrates-data", "fingerprints-host", "hides-artifacts",
     "hides-executing-code", "infects-files", "infects-remote-machines", "installs-other-components",
     "persists-after-system-reboot", "prevents-artifact-access", "prevents-artifact-deletion",
     "probes-network-environment", "self-modifies", "steals-authentication-credentials",
     "violates-system-operational-integrity"},
    false};
inline const Vocab kMalwareType{"malware-type-ov",
                                {"adware", "backdoor", "bot", "bootkit", "ddos", "downloader", "dropper",
                                 "exploit-kit", "keylogger", "ransomware", "remote-access-trojan",
                                 "resource-exploitation", "rogue-security-software", "rootkit", "screen-capture",
                                 "spyware", "trojan", "unknown", "virus", "webshell", "wiper", "worm"},
                                false};
inline const Vocab kPatternType{"pattern-type-ov", {"stix", "pcre", "sigma", "snort", "suricata", "yara"}, false};
inline const Vocab kProcessorArchitecture{
    "processor-architecture-ov", {"alpha", "arm", "ia-64", "mips", "powerpc", "sparc", "x86", "x86-64"}, false};
inline const Vocab kRegion{"region-ov",
                           {"africa", "eastern-africa", "middle-africa", "northern-africa", "southern-africa",
                            "western-africa", "americas", "latin-america-caribbean", "south-america", "caribbean",
                            "central-america", "northern-america", "asia", "central-asia", "eastern-asia",
                            "southern-asia", "south-eastern-asia", "western-asia", "europe", "eastern-europe",
                            "northern-europe", "southern-europe", "western-europe", "oceania",
                            "australia-new-zealand", "melanesia", "micronesia", "polynesia", "antarctica"},
                           false};
inline const Vocab kReportType{"report-type-ov",
                               {"attack-pattern", "campaign", "identity", "indicator", "intrusion-set", "malware",
                                "observed-data", "threat-actor", "threat-report", "tool", "vulnerability"},
                               false};
inline const Vocab kThreatActorType{"threat-actor-type-ov",
                                    {"activist", "competitor", "crime-syndicate", "criminal", "hacker",
                                     "insider-accidental", "insider-disgruntled", "nation-state", "sensationalist",
                                     "spy", "terrorist", "unknown"},
                                    false};
inline const Vocab kThreatActorRole{"threat-actor-role-ov",
                                    {"agent", "director", "independent", "infrastructure-architect",
                                     "infrastructure-operator", "malware-author", "sponsor"},
                                    false};
inline const Vocab kThreatActorSophistication{
    "threat-actor-sophistication-ov",
    {"none", "minimal", "intermediate", "advanced", "expert", "innovator", "strategic"},
    false};
inline const Vocab kToolType{"tool-type-ov",
                             {"denial-of-service", "exploitation", "information-gathering", "network-capture",
                              "credential-exploitation", "remote-access", "vulnerability-scanning", "unknown"},
                             false};
inline const Vocab kAccountType{"account-type-ov",
                                {"facebook", "ldap", "nis", "openid", "radius", "skype", "tacacs", "twitter", "unix",
                                 "windows-local", "windows-domain"},
                                false};
inline const Vocab kHashAlgorithm{
    "hash-algorithm-ov", {"MD5", "SHA-1", "SHA-256", "SHA-512", "SHA3-256", "SHA3-512", "SSDEEP", "TLSH"}, false};
inline const Vocab kPeBinaryType{"windows-pebinary-type-ov", {"dll", "exe", "sys"}, false};

inline const Vocab kEncryptionAlgorithm{
    "encryption-algorithm-enum", {"AES-256-GCM", "ChaCha20-Poly1305", "mime-type-indicated"}, true};
inline const Vocab kExtensionType{
    "extension-type-enum",
    {"new-sdo", "new-sco", "new-sro", "property-extension", "toplevel-property-extension"},
    true};
inline const Vocab kNetworkSocketAddressFamily{
    "network-socket-address-family-enum",
    {"AF_UNSPEC", "AF_INET", "AF_IPX", "AF_APPLETALK", "AF_NETBIOS", "AF_INET6", "AF_IRDA", "AF_BTH"},
    true};
inline const Vocab kNetworkSocketType{
    "network-socket-type-enum", {"SOCK_STREAM", "SOCK_DGRAM", "SOCK_RAW", "SOCK_RDM", "SOCK_SEQPACKET"}, true};
inline const Vocab kOpinion{
    "opinion-enum", {"strongly-disagree", "disagree", "neutral", "agree", "strongly-agree"}, true};
inline const Vocab kWindowsIntegrityLevel{"windows-integrity-level-enum", {"low", "medium", "high", "system"}, true};
inline const Vocab kWindowsRegistryDatatype{
    "windows-registry-datatype-enum",
    {"REG_NONE", "REG_SZ", "REG_EXPAND_SZ", "REG_BINARY", "REG_DWORD", "REG_DWORD_BIG_ENDIAN",
     "REG_DWORD_LITTLE_ENDIAN", "REG_LINK", "REG_MULTI_SZ", "REG_RESOURCE_LIST", "REG_FULL_RESOURCE_DESCRIPTION",
     "REG_RESOURCE_REQUIREMENTS_LIST", "REG_QWORD", "REG_INVALID_TYPE"},
    true};
inline const Vocab kWindowsServiceStartType{
    "windows-service-start-type-enum",
    {"SERVICE_AUTO_START", "SERVICE_BOOT_START", "SERVICE_DEMAND_START", "SERVICE_DISABLED", "SERVICE_SYSTEM_ALERT"},
    true};
inline const Vocab kWindowsServiceType{
    "windows-service-type-enum",
    {"SERVICE_KERNEL_DRIVER", "SERVICE_FILE_SYSTEM_DRIVER", "SERVICE_WIN32_OWN_PROCESS",
     "SERVICE_WIN32_SHARE_PROCESS"},
    true};
inline const Vocab kWindowsServiceStatus{
    "windows-service-status-enum",
    {"SERVICE_CONTINUE_PENDING", "SERVICE_PAUSE_PENDING", "SERVICE_PAUSED", "SERVICE_RUNNING",
     "SERVICE_START_PENDING", "SERVICE_STOP_PENDING", "SERVICE_STOPPED"},
    true};
inline const Vocab kMarkingDefinitionType{"marking-definition-type", {"statement", "tlp"}, true};

}  // namespace vocab
}  // namespace ctihub::stix

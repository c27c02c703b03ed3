// Policy::Explain's account of the agreements: for each agreement of the
// model, what became of the grants it gave the reader in the decision
// (DecisionTrace, filled by the decision itself), or, when it gave none for
// this object's producer, why not. Nothing here decides: the decision and its
// trace come from Policy::DecideImpl.
#include <string>
#include <string_view>

#include "policy/policy.h"

namespace ctihub::policy {
namespace {

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return out;
}
std::string TlpText(Tlp t) { return "TLP:" + Upper(TlpName(t)); }
std::string PapText(Pap p) { return "PAP:" + Upper(PapName(p)); }

// Whether grant `via` comes from agreement `id` (directly or as one hop of a
// re-share chain).
bool GrantUses(std::string_view via, std::string_view id) {
  if (via == "agreement:" + std::string(id)) return true;
  if (!via.starts_with("reshare:")) return false;
  via.remove_prefix(8);
  const size_t gt = via.find('>');
  if (gt == std::string_view::npos) return false;
  return via.substr(0, gt) == id || via.substr(gt + 1) == id;
}

// Lower is more telling: the outcome an agreement's note reports when it
// stands behind several grants.
int Rank(std::string_view outcome, bool skipped) {
  if (outcome == "decided") return 0;
  if (outcome == "redacts-more") return 1;
  if (outcome == "not-reached") return 2;
  if (!skipped) return 3;
  return outcome == "tlp-above-ceiling" ? 4 : 5;
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// Why the agreement is not in force at `now`, or "" when it is.
std::string InactiveReason(const Agreement& a, Timestamp now, std::string* detail) {
  if (a.revoked_at && !(now < *a.revoked_at)) {
    *detail = a.id + " was revoked at " + a.revoked_at->ToString();
    return "revoked";
  }
  if (a.valid_from && now < *a.valid_from) {
    *detail = a.id + " is valid from " + a.valid_from->ToString();
    return "not-yet-valid";
  }
  if (a.expires && !(now < *a.expires)) {
    *detail = a.id + " expired at " + a.expires->ToString();
    return "expired";
  }
  return "";
}

// Another organisation than `reader` and `producer` that `a` and `b` both include
// (b's recipient, a's producer): the middle of a re-share chain producer -> X -> reader.
bool SharesMiddle(const PolicyModel& m, const Party& recipient_side, const Party& producer_side,
                  const Organisation* reader, const Organisation* producer) {
  for (const Organisation& x : m.organisations) {
    if (&x == reader || &x == producer) continue;
    if (PartyIncludes(recipient_side, x) && PartyIncludes(producer_side, x)) return true;
  }
  return false;
}

}  // namespace

AgreementNote Policy::NoteFor(const Agreement& a, const Explanation& e, Timestamp now) const {
  AgreementNote note;
  note.agreement = a.id;
  // The grants it stands behind in this decision, the most telling first.
  const GrantStep* step = nullptr;
  bool step_skipped = false;
  for (bool skipped : {false, true}) {
    for (const GrantStep& s : skipped ? e.trace.skipped : e.trace.steps) {
      if (!GrantUses(s.via, a.id)) continue;
      if (step == nullptr || Rank(s.outcome, skipped) < Rank(step->outcome, step_skipped)) {
        step = &s;
        step_skipped = skipped;
      }
    }
  }
  if (step != nullptr) {
    note.reason = step->outcome;
    const std::string& via = step->via;
    if (step->outcome == "decided") {
      note.detail =
          via + " decided: " +
          (step->removals.empty() ? "served as is" : "served without " + Join(step->removals));
    } else if (step->outcome == "redacts-more") {
      note.detail = via + " would serve it without " + Join(step->removals) +
                    ", more than the grant that decided removes";
    } else if (step->outcome == "not-reached") {
      note.detail = via + " was not needed: " + std::string(e.decision.via) + " decided first";
    } else if (step->outcome == "tlp-above-ceiling") {
      note.detail =
          via + " covers up to " + TlpText(step->max) + ", the object is " + TlpText(e.trace.tlp);
    } else if (step->outcome == "not-active") {
      note.reason = InactiveReason(a, now, &note.detail);
      if (note.reason.empty()) {  // the other agreement of the chain is not in force
        for (const Agreement& other : model_.agreements) {
          if (&other == &a || !GrantUses(via, other.id)) continue;
          std::string why = InactiveReason(other, now, &note.detail);
          if (!why.empty()) note.reason = why;
        }
        note.detail = via + ": " + note.detail;
      }
    } else if (step->outcome == "type-not-in-agreement") {
      note.detail = via + " does not cover objects of type " + e.type;
    } else if (step->outcome == "pap-above-ceiling") {
      note.detail = "the object's " + PapText(e.trace.pap) + " is above the PAP ceiling of " + via;
    } else if (step->outcome == "sco-type-withheld") {
      note.detail = via + " withholds " + e.type + " objects";
    } else if (step->outcome == "required-property-redacted") {
      note.detail = via + " would remove a property " + e.type + " requires";
    } else {
      note.detail = via + ": " + step->outcome;
    }
    return note;
  }
  // No grant of it reached this decision: why.
  if (e.decision.via == "own") {
    note.reason = "own-object";
    note.detail = "the reader's organisation produced the object: agreements play no part";
    return note;
  }
  const Organisation* reader =
      e.reader_org.empty() ? nullptr : model_.FindOrganisation(e.reader_org);
  const Organisation* producer = model_.FindOrganisationByIdentity(e.producer);
  if (reader == nullptr || !PartyIncludes(a.recipient, *reader)) {
    note.reason = "wrong-recipient";
    note.detail =
        "its recipient is " + a.recipient.ToString() + ", not " +
        (e.reader_org.empty() ? std::string("an anonymous reader") : "org:" + e.reader_org);
    if (reader != nullptr && producer != nullptr && PartyIncludes(a.producer, *producer) &&
        !a.reshare) {
      for (const Agreement& b : model_.agreements) {
        if (&b == &a || !PartyIncludes(b.recipient, *reader)) continue;
        if (!SharesMiddle(model_, a.recipient, b.producer, reader, producer)) continue;
        note.reason = "reshare-not-allowed";
        note.detail = a.recipient.ToString() + " receives " + producer->name +
                      "'s objects under it but may not re-share them (" + b.id +
                      " would carry them to " + reader->name + ")";
        break;
      }
    }
    return note;
  }
  if (producer == nullptr) {
    note.reason = "producer-not-covered";
    note.detail = "the object's producer " + (e.producer.empty() ? "(none)" : e.producer) +
                  " is no organisation of the hub";
    return note;
  }
  if (!PartyIncludes(a.producer, *producer)) {
    note.reason = "producer-not-covered";
    note.detail = "it covers objects of " + a.producer.ToString() +
                  ", the object's producer is org:" + producer->name;
    for (const Agreement& b : model_.agreements) {
      if (&b == &a || !PartyIncludes(b.producer, *producer)) continue;
      if (!SharesMiddle(model_, b.recipient, a.producer, reader, producer)) continue;
      if (!b.reshare) {
        note.reason = "reshare-not-allowed";
        note.detail += "; its objects reach " + b.recipient.ToString() + " under " + b.id +
                       ", which does not allow re-sharing";
      } else {
        note.reason = "reshare-types-disjoint";
        note.detail += "; re-sharing under " + b.id + " then " + a.id +
                       " carries no object type: the two have none in common";
      }
      break;
    }
    return note;
  }
  note.reason = "no-grant";  // never reached: such an agreement is always a grant
  note.detail = "it gives this reader no grant for this producer";
  return note;
}

}  // namespace ctihub::policy

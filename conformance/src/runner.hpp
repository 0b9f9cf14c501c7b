// Runs the applicable cases against a Subject with GoogleTest underneath:
// one registered test per case and instance, a listener that prints progress
// and collects each verdict into the report.
#ifndef LATCHKEY_CERTIFY_RUNNER_HPP
#define LATCHKEY_CERTIFY_RUNNER_HPP

#include "suite.hpp"

#include "latchkey/certification.pb.h"

#include <string>

namespace latchkey::certify {

// Fills report.cases and report.summary. filter selects case IDs (empty: all).
void run_cases(Subject& subject, const std::string& filter, bool quiet, certification::v1::CertificationReport& report);
// The run's verdict, summary and `missing` from the case verdicts: FAILED when
// a case failed; otherwise INCOMPLETE when anything that applies was not done
// (a plugin kind offered without a device, a skip that is not "not
// applicable", a manual step not carried out, a case needing test control),
// else PASSED.
void settle_verdict(const Subject& subject, certification::v1::CertificationReport& report);
// "not applicable", "needs test control", "manual step" or "could not run", from a skip message's prefix.
std::string skip_kind_of(const std::string& skip_message);
// The property confirm_manual_step() records an operator's answer under (then a number).
inline constexpr const char* kManualAnswerProperty = "manual_answer_";
bool case_selected(const std::string& id, const std::string& filter);

}  // namespace latchkey::certify

#endif  // LATCHKEY_CERTIFY_RUNNER_HPP

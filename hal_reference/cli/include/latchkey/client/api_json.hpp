// Reading the API's JSON answers without caring whether a field is a
// string, a number, a boolean or null: what tables and timelines need; and
// writing request bodies, with Poco::JSON like every JSON in the project.
#ifndef LATCHKEY_CLIENT_API_JSON_HPP
#define LATCHKEY_CLIENT_API_JSON_HPP

#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <cstdint>
#include <string>

namespace latchkey::client {

// Parses text as a JSON object; throws std::runtime_error saying why.
Poco::JSON::Object::Ptr parse_json_object(const std::string& text);

// The field as text: strings as they are, numbers and booleans printed,
// objects and arrays as JSON, "" when missing or null.
std::string json_text(const Poco::JSON::Object::Ptr& object, const std::string& key);
// The field as a number; `fallback` when missing, null or not a number.
int64_t json_int(const Poco::JSON::Object::Ptr& object, const std::string& key, int64_t fallback = 0);
// True only for a JSON true.
bool json_true(const Poco::JSON::Object::Ptr& object, const std::string& key);
// The field as an object or array; null when missing or of another type.
Poco::JSON::Object::Ptr json_object(const Poco::JSON::Object::Ptr& object, const std::string& key);
Poco::JSON::Array::Ptr json_array(const Poco::JSON::Object::Ptr& object, const std::string& key);
// Element i of an array as an object; null when it is not one.
Poco::JSON::Object::Ptr json_object_at(const Poco::JSON::Array::Ptr& array, std::size_t i);

// An empty JSON object that keeps its fields in the order they are set.
Poco::JSON::Object::Ptr new_json_object();
// The object as JSON text on one line.
std::string json_string(const Poco::JSON::Object::Ptr& object);

}  // namespace latchkey::client

#endif  // LATCHKEY_CLIENT_API_JSON_HPP

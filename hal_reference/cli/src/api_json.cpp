#include <latchkey/client/api_json.hpp>

#include <Poco/Exception.h>
#include <Poco/JSON/Parser.h>
#include <Poco/JSON/Stringifier.h>

#include <sstream>
#include <stdexcept>

namespace latchkey::client {

Poco::JSON::Object::Ptr parse_json_object(const std::string& text) {
  Poco::Dynamic::Var value;
  try {
    Poco::JSON::Parser parser;
    value = parser.parse(text);
  } catch (const Poco::Exception& e) {
    throw std::runtime_error("not JSON: " + e.displayText());
  }
  if (value.type() != typeid(Poco::JSON::Object::Ptr)) throw std::runtime_error("JSON, but not an object");
  return value.extract<Poco::JSON::Object::Ptr>();
}

std::string json_text(const Poco::JSON::Object::Ptr& object, const std::string& key) {
  if (!object || !object->has(key)) return "";
  const Poco::Dynamic::Var value = object->get(key);
  if (value.isEmpty()) return "";
  if (value.type() == typeid(Poco::JSON::Object::Ptr) || value.type() == typeid(Poco::JSON::Array::Ptr)) {
    std::ostringstream out;
    Poco::JSON::Stringifier::stringify(value, out);
    return out.str();
  }
  try {
    return value.convert<std::string>();
  } catch (const Poco::Exception&) {
    return "";
  }
}

int64_t json_int(const Poco::JSON::Object::Ptr& object, const std::string& key, int64_t fallback) {
  if (!object || !object->has(key)) return fallback;
  const Poco::Dynamic::Var value = object->get(key);
  if (value.isEmpty() || !value.isNumeric()) return fallback;
  try {
    return value.convert<int64_t>();
  } catch (const Poco::Exception&) {
    return fallback;
  }
}

bool json_true(const Poco::JSON::Object::Ptr& object, const std::string& key) {
  if (!object || !object->has(key)) return false;
  const Poco::Dynamic::Var value = object->get(key);
  return value.type() == typeid(bool) && value.extract<bool>();
}

Poco::JSON::Object::Ptr json_object(const Poco::JSON::Object::Ptr& object, const std::string& key) {
  if (!object || !object->has(key)) return nullptr;
  const Poco::Dynamic::Var value = object->get(key);
  if (value.type() != typeid(Poco::JSON::Object::Ptr)) return nullptr;
  return value.extract<Poco::JSON::Object::Ptr>();
}

Poco::JSON::Array::Ptr json_array(const Poco::JSON::Object::Ptr& object, const std::string& key) {
  if (!object || !object->has(key)) return nullptr;
  const Poco::Dynamic::Var value = object->get(key);
  if (value.type() != typeid(Poco::JSON::Array::Ptr)) return nullptr;
  return value.extract<Poco::JSON::Array::Ptr>();
}

Poco::JSON::Object::Ptr json_object_at(const Poco::JSON::Array::Ptr& array, std::size_t i) {
  if (!array || i >= array->size()) return nullptr;
  const Poco::Dynamic::Var value = array->get(static_cast<unsigned>(i));
  if (value.type() != typeid(Poco::JSON::Object::Ptr)) return nullptr;
  return value.extract<Poco::JSON::Object::Ptr>();
}

Poco::JSON::Object::Ptr new_json_object() { return new Poco::JSON::Object(Poco::JSON_PRESERVE_KEY_ORDER); }

std::string json_string(const Poco::JSON::Object::Ptr& object) {
  std::ostringstream out;
  object->stringify(out);
  return out.str();
}

}  // namespace latchkey::client

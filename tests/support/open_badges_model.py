"""1EdTech's Open Badges 3.0 and CLR 2.0 JSON Schemas, built from the published data model.

No package on PyPI or npm ships 1EdTech's schema files, and CI reaches no other host, so the
tests cannot fetch them; keeping a copy in the repository is not allowed either. Instead this
script holds the published data model (OB 3.0 §B "Data Models" and CLR 2.0 §B: the classes
reachable from ``AchievementCredential`` and ``ClrCredential``, each property with its type and
multiplicity, and the enumerations) and builds JSON Schema 2019-09 from it by the rules 1EdTech's
generator applies to the published ``ob_v3p0_achievementcredential_schema.json`` and
``clr_v2p0_clrcredential_schema.json``:

- a property of multiplicity 1 or 1..* is required; ``0..*`` and ``1..*`` accept one value or an
  array (``1..*``: not empty);
- a string (String, URI, IRI, Markdown, ...) may also be a language map
  (``{"en": "..."}``); a CompactJws or a LanguageCode keeps its pattern in both forms;
- ``type`` of a class is an unordered set that must contain the class's IRI (a single string
  is accepted as it is);
- an extensible enumeration accepts its values or ``ext:`` followed by a name;
- ``@context`` starts with the VC 2.0 context, then the specification's contexts, in order;
- classes are open (``additionalProperties``) except IdentityObject, IdentifierEntry, Image
  and Association.

Print a schema: ``python -m tests.support.open_badges_model ob`` (or ``clr``).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT_PATTERN = r"^https:\/\/purl\.imsglobal\.org\/spec\/ob\/v3p0\/context(-3\.\d\.\d)*\.json$"
CLR_CONTEXT_PATTERN = (
    r"^https:\/\/purl\.imsglobal\.org\/spec\/clr\/v2p0\/context(-2\.\d\.\d)*\.json$"
)
LANGUAGE_TAG = r"^[a-z]{2}(-[A-Z]{2})?$"
EXTENSION = "(ext:)[a-z|A-Z|0-9|.|-|_]+"

# What the spec's derived string types add to a plain string.
PATTERNS = {
    "CompactJws": r"^[a-zA-Z0-9_-]+\.[a-zA-Z0-9_-]*\.[a-zA-Z0-9_-]+$",
    "LanguageCode": r"^[a-z]{2,4}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$",
}
STRINGS = {
    "String",
    "URI",
    "IRI",
    "URL",
    "Markdown",
    "NormalizedString",
    "Identifier",
    "IdentityHash",
    "PhoneNumber",
    "EmailAddress",
    "ASCIIString",
    "UUID",
    "CompactJws",
    "LanguageCode",
}
SCALARS = {
    "DateTime": {"type": "string", "format": "date-time"},
    "DateTimeZ": {"type": "string", "format": "date-time"},
    "Date": {"type": "string", "format": "date"},
    "Float": {"type": "number"},
    "Integer": {"type": "integer"},
    "Boolean": {"type": "boolean"},
}
IDENTIFIER_TYPES = (
    "name sourcedId systemId productId userName accountId emailAddress nationalIdentityNumber "
    "isbn issn lisSourcedId oneRosterSourcedId sisSourcedId ltiContextId ltiDeploymentId "
    "ltiToolId ltiPlatformId ltiUserId identifier"
)
# Extensible enumerations (EnumExt) and closed ones (Enumeration).
EXTENSIBLE = {
    "AchievementType": (
        "Achievement ApprenticeshipCertificate Assessment Assignment AssociateDegree Award Badge "
        "BachelorDegree Certificate CertificateOfCompletion Certification CommunityService "
        "Competency Course CoCurricular Degree Diploma DoctoralDegree Fieldwork "
        "GeneralEducationDevelopment JourneymanCertificate LearningProgram License Membership "
        "ProfessionalDoctorate QualityAssuranceCredential MasterCertificate MasterDegree "
        "MicroCredential ResearchDoctorate SecondarySchoolDiploma"
    ),
    "AlignmentTargetType": (
        "ceasn:Competency ceterms:Credential CFItem CFRubric CFRubricCriterion "
        "CFRubricCriterionLevel CTDL"
    ),
    "IdentifierTypeEnum": IDENTIFIER_TYPES,
    "ResultType": (
        "GradePointAverage LetterGrade Percent PerformanceLevel PredictedScore RawScore Result "
        "RubricCriterion RubricCriterionLevel RubricScore ScaledScore Status"
    ),
}
CLOSED = {
    "ResultStatusType": "Completed Enrolled Failed InProgress OnHold Provisional Withdrew",
    "AssociationType": (
        "exactMatchOf isChildOf isParentOf isPartOf isPeerOf isRelatedTo precedes replacedBy"
    ),
}

# The published model: ``class Name [closed]`` then one property a line,
# ``name Type multiplicity [must=A|B ...] [is=Value]``: ``must`` lists the IRIs one of which an
# unordered ``type`` set must contain (one ``must`` per requirement), ``is`` fixes the value.
_CREDENTIAL_TAIL = """
  issuer ProfileRef 1
  validFrom DateTimeZ 1
  validUntil DateTimeZ 0..1
  proof Proof 0..*
  credentialSchema CredentialSchema 0..*
  credentialStatus CredentialStatus 0..1
  refreshService RefreshService 0..1
  termsOfUse TermsOfUse 0..*
  evidence Evidence 0..*
"""
MODEL = (
    """
class AchievementCredential
  @context Context 1..* contexts=ob
  id URI 1
  type IRI 1..* must=VerifiableCredential must=AchievementCredential|OpenBadgeCredential
  name String 0..1
  description String 0..1
  image Image 0..1
  awardedDate DateTimeZ 0..1
  credentialSubject AchievementSubject 1
  endorsement EndorsementCredential 0..*
  endorsementJwt CompactJws 0..*
"""
    + _CREDENTIAL_TAIL
    + """
class ClrCredential
  @context Context 1..* contexts=clr
  type IRI 1..* must=VerifiableCredential must=ClrCredential
  id URI 1
  name String 1
  description String 0..1
  endorsement EndorsementCredential 0..*
  endorsementJwt CompactJws 0..*
  image Image 0..1
  partial Boolean 0..1
  credentialSubject ClrSubject 1
  awardedDate DateTimeZ 0..1
"""
    + _CREDENTIAL_TAIL
    + """
class EndorsementCredential
  @context Context 1..* contexts=ob
  type IRI 1..* must=VerifiableCredential must=EndorsementCredential
  id URI 1
  name String 1
  description String 0..1
  credentialSubject EndorsementSubject 1
  awardedDate DateTimeZ 0..1
"""
    + _CREDENTIAL_TAIL
    + """
class VerifiableCredential
  @context Context 1..* contexts=vc
  id URI 0..1
  type IRI 1..* must=VerifiableCredential
  issuer ProfileRef 1
  validFrom DateTimeZ 1
  validUntil DateTimeZ 0..1
  credentialSubject CredentialSubject 1
  proof Proof 0..*
  credentialSchema CredentialSchema 0..*
  credentialStatus CredentialStatus 0..1
  refreshService RefreshService 0..1
  termsOfUse TermsOfUse 0..*
  evidence Evidence 0..*

class CredentialSubject
  id URI 0..1

class ClrSubject
  id URI 0..1
  type IRI 1..* must=ClrSubject
  identifier IdentityObject 0..*
  achievement Achievement 0..*
  verifiableCredential VerifiableCredential 1..*
  association Association 0..*

class Association closed
  type IRI 1 is=Association
  associationType AssociationType 1
  sourceId URI 1
  targetId URI 1

class AchievementSubject
  id URI 0..1
  type IRI 1..* must=AchievementSubject
  activityEndDate DateTime 0..1
  activityStartDate DateTime 0..1
  creditsEarned Float 0..1
  achievement Achievement 1
  identifier IdentityObject 0..*
  image Image 0..1
  licenseNumber String 0..1
  narrative Markdown 0..1
  result Result 0..*
  role String 0..1
  source Profile 0..1
  term String 0..1

class IdentityObject closed
  type IRI 1 is=IdentityObject
  hashed Boolean 1
  identityHash IdentityHash 1
  identityType IdentifierTypeEnum 1
  salt String 0..1

class Achievement
  id URI 1
  type IRI 1..* must=Achievement
  alignment Alignment 0..*
  achievementType AchievementType 0..1
  creator Profile 0..1
  creditsAvailable Float 0..1
  criteria Criteria 1
  description String 1
  endorsement EndorsementCredential 0..*
  endorsementJwt CompactJws 0..*
  fieldOfStudy String 0..1
  humanCode String 0..1
  image Image 0..1
  inLanguage LanguageCode 0..1
  name String 1
  otherIdentifier IdentifierEntry 0..*
  related Related 0..*
  resultDescription ResultDescription 0..*
  specialization String 0..1
  tag String 0..*
  version String 0..1

class Alignment
  type IRI 1..* must=Alignment
  targetCode String 0..1
  targetDescription String 0..1
  targetName String 1
  targetFramework String 0..1
  targetType AlignmentTargetType 0..1
  targetUrl URL 1

class Criteria
  id URI 0..1
  narrative Markdown 0..1

class IdentifierEntry closed
  type IRI 1 is=IdentifierEntry
  identifier Identifier 1
  identifierType IdentifierTypeEnum 1

class Image closed
  id URI 1
  type IRI 1 is=Image
  caption String 0..1

class Profile
  id URI 1
  type IRI 1..* must=Profile
  name String 0..1
  url URI 0..1
  phone PhoneNumber 0..1
  description String 0..1
  endorsement EndorsementCredential 0..*
  endorsementJwt CompactJws 0..*
  image Image 0..1
  email EmailAddress 0..1
  address Address 0..1
  otherIdentifier IdentifierEntry 0..*
  official String 0..1
  parentOrg Profile 0..1
  familyName String 0..1
  givenName String 0..1
  additionalName String 0..1
  patronymicName String 0..1
  honorificPrefix String 0..1
  honorificSuffix String 0..1
  familyNamePrefix String 0..1
  dateOfBirth Date 0..1

class Address
  type IRI 1..* must=Address
  addressCountry String 0..1
  addressCountryCode String 0..1
  addressRegion String 0..1
  addressLocality String 0..1
  streetAddress String 0..1
  postOfficeBoxNumber String 0..1
  postalCode String 0..1
  geo GeoCoordinates 0..1

class GeoCoordinates
  type IRI 1 is=GeoCoordinates
  latitude Float 1
  longitude Float 1

class EndorsementSubject
  id URI 1
  type IRI 1..* must=EndorsementSubject
  endorsementComment Markdown 0..1

class Evidence
  id URI 0..1
  type IRI 1..* must=Evidence
  narrative Markdown 0..1
  name String 0..1
  description String 0..1
  genre String 0..1
  audience String 0..1

class Result
  type IRI 1..* must=Result
  achievedLevel URI 0..1
  alignment Alignment 0..*
  resultDescription URI 0..1
  status ResultStatusType 0..1
  value String 0..1

class ResultDescription
  id URI 1
  type IRI 1..* must=ResultDescription
  alignment Alignment 0..*
  allowedValue String 0..*
  name String 1
  requiredLevel URI 0..1
  requiredValue String 0..1
  resultType ResultType 1
  rubricCriterionLevel RubricCriterionLevel 0..*
  valueMax String 0..1
  valueMin String 0..1

class RubricCriterionLevel
  id URI 1
  type IRI 1..* must=RubricCriterionLevel
  alignment Alignment 0..*
  description String 0..1
  level String 0..1
  name String 1
  points String 0..1

class Related
  id URI 1
  type IRI 1..* must=Related
  inLanguage LanguageCode 0..1
  version String 0..1

class Proof
  type IRI 1
  created DateTime 0..1
  cryptosuite String 0..1
  challenge String 0..1
  domain String 0..1
  nonce String 0..1
  proofPurpose String 0..1
  proofValue String 0..1
  verificationMethod URI 0..1

class CredentialSchema
  id URI 1
  type IRI 1

class CredentialStatus
  id URI 0..1
  type IRI 1

class RefreshService
  id URI 1
  type IRI 1

class TermsOfUse
  id URI 0..1
  type IRI 1
"""
)
CONTEXTS = {
    "vc": [{"enum": [VC_CONTEXT]}],
    "ob": [
        {"enum": [VC_CONTEXT]},
        {"type": "string", "pattern": OB_CONTEXT_PATTERN},
    ],
    "clr": [
        {"enum": [VC_CONTEXT]},
        {"type": "string", "pattern": CLR_CONTEXT_PATTERN},
        {"type": "string", "pattern": OB_CONTEXT_PATTERN},
    ],
}


@dataclass(frozen=True, slots=True)
class Property:
    name: str
    type: str
    multiplicity: str
    musts: tuple[tuple[str, ...], ...] = ()
    fixed: str | None = None
    contexts: str | None = None

    @property
    def is_required(self) -> bool:
        return not self.multiplicity.startswith("0")

    @property
    def is_many(self) -> bool:
        return self.multiplicity.endswith("*")


@dataclass(frozen=True, slots=True)
class ModelClass:
    name: str
    closed: bool
    properties: tuple[Property, ...]


def parse_model(text: str = MODEL) -> dict[str, ModelClass]:
    classes: dict[str, ModelClass] = {}
    name, closed, properties = "", False, []
    for line in [*text.splitlines(), "class END"]:
        words = line.split()
        if not words:
            continue
        if words[0] == "class":
            if name:
                classes[name] = ModelClass(name, closed, tuple(properties))
            name, closed, properties = words[1], words[2:] == ["closed"], []
            continue
        prop_name, prop_type, multiplicity, *options = words
        musts = tuple(tuple(o[5:].split("|")) for o in options if o.startswith("must="))
        fixed = next((o[3:] for o in options if o.startswith("is=")), None)
        contexts = next((o[9:] for o in options if o.startswith("contexts=")), None)
        properties.append(Property(prop_name, prop_type, multiplicity, musts, fixed, contexts))
    return classes


def _string(pattern: str | None = None, values: list[str] | None = None) -> dict[str, Any]:
    """A string, or a language map of such strings."""
    plain: dict[str, Any] = {"type": "string"}
    if pattern:
        plain["pattern"] = pattern
    if values:
        plain["enum"] = values
    return {
        "oneOf": [
            plain,
            {
                "type": "object",
                "additionalProperties": plain,
                "propertyNames": {"pattern": LANGUAGE_TAG},
            },
        ]
    }


def _value(prop: Property) -> dict[str, Any]:
    kind = prop.type
    if kind in SCALARS:
        return dict(SCALARS[kind])
    if kind in EXTENSIBLE:
        values = EXTENSIBLE[kind].split()
        return {
            "oneOf": [
                {"type": "string", "enum": values},
                {"type": "string", "pattern": EXTENSION},
            ]
        }
    if kind in CLOSED:
        return {"type": "string", "enum": CLOSED[kind].split()}
    if kind in STRINGS:
        return _string(PATTERNS.get(kind), [prop.fixed] if prop.fixed else None)
    return {"$ref": f"#/$defs/{kind}"}


def _property(prop: Property) -> dict[str, Any]:
    if prop.contexts is not None:
        head = CONTEXTS[prop.contexts]
        return {
            "oneOf": [
                {"$ref": "#/$defs/Context"},
                {
                    "type": "array",
                    "minItems": len(head),
                    "items": head,
                    "additionalItems": {"$ref": "#/$defs/Context"},
                },
            ]
        }
    one = _value(prop)
    if prop.musts:
        sets = [
            {"type": "array", "minItems": 1, "contains": {"enum": list(must)}, "items": one}
            for must in prop.musts
        ]
        return {"oneOf": [one, sets[0] if len(sets) == 1 else {"allOf": sets}]}
    if not prop.is_many:
        return one
    many: dict[str, Any] = {"type": "array", "items": one}
    if prop.is_required:
        many["minItems"] = 1
    return {"oneOf": [one, many]}


def _class_schema(model_class: ModelClass) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {p.name: _property(p) for p in model_class.properties},
        "required": [p.name for p in model_class.properties if p.is_required],
        "additionalProperties": not model_class.closed,
    }


def _reachable(classes: dict[str, ModelClass], root: str) -> list[str]:
    found: list[str] = []
    pending = [root]
    while pending:
        name = pending.pop()
        if name in found:
            continue
        found.append(name)
        for prop in classes[name].properties:
            target = "Profile" if prop.type == "ProfileRef" else prop.type
            if target in classes:
                pending.append(target)
    return found


def build_schema(root: str) -> dict[str, Any]:
    """The JSON Schema of ``root`` ("AchievementCredential" or "ClrCredential")."""
    classes = parse_model()
    defs: dict[str, Any] = {
        name: _class_schema(classes[name]) for name in _reachable(classes, root) if name != root
    }
    defs["Context"] = {"anyOf": [_string(), {"type": "object"}]}
    defs["ProfileRef"] = {"anyOf": [{"$ref": "#/$defs/Profile"}, _string()]}
    return {
        "$schema": "https://json-schema.org/draft/2019-09/schema#",
        "title": f"{root}, built from the published data model",
        **_class_schema(classes[root]),
        "$defs": defs,
    }


ROOTS = {"ob": "AchievementCredential", "clr": "ClrCredential"}

if __name__ == "__main__":
    print(json.dumps(build_schema(ROOTS[sys.argv[1]]), indent=2))

"""Operations on the domain model with an explicit Session, Actor and Clock. The API, the web
faces and the sync engine all call these, so a rule is written once. No Flask here."""

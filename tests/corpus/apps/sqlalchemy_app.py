"""SQLAlchemy with sqlite (its dialect loaded by name from the URL): the
ORM with relationships, sessions, joins and aggregates, and Core."""
from sqlalchemy import (ForeignKey, String, create_engine, event, func,
                        insert, inspect, select, text)
from sqlalchemy.orm import (DeclarativeBase, Mapped, Session, mapped_column,
                            relationship, selectinload)


class Base(DeclarativeBase):
    pass


class Owner(Base):
    __tablename__ = "owner"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(30), unique=True)
    fruits: Mapped[list["Fruit"]] = relationship(back_populates="owner",
                                                 order_by="Fruit.name")


class Fruit(Base):
    __tablename__ = "fruit"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(20))
    count: Mapped[int] = mapped_column(default=1)
    owner_id: Mapped[int] = mapped_column(ForeignKey("owner.id"))
    owner: Mapped[Owner] = relationship(back_populates="fruits")

    def __repr__(self):
        return f"Fruit({self.name!r}, {self.count})"


engine = create_engine("sqlite+pysqlite:///:memory:")
statements = []
event.listen(engine, "before_cursor_execute",
             lambda *a: statements.append(a[2].split()[0]))
Base.metadata.create_all(engine)
with Session(engine) as s:
    s.add_all([Owner(name="ann", fruits=[Fruit(name="pear", count=3),
                                         Fruit(name="apple", count=5)]),
               Owner(name="bob", fruits=[Fruit(name="fig")])])
    s.commit()
    for o in s.scalars(select(Owner).options(selectinload(Owner.fruits))
                       .order_by(Owner.name)):
        print(o.name, o.fruits)
    q = (select(Owner.name, func.sum(Fruit.count), func.count(Fruit.id))
         .join(Owner.fruits).group_by(Owner.name).order_by(Owner.name))
    print(s.execute(q).all())
    s.execute(insert(Fruit), [{"name": "kiwi", "count": 9, "owner_id": 2}])
    print(s.scalar(select(func.max(Fruit.count))),
          s.execute(text("select sqlite_version() > '3'")).scalar())
    s.rollback()
print(sorted(inspect(engine).get_table_names()),
      [c["name"] for c in inspect(engine).get_columns("fruit")])
print(engine.dialect.name, engine.dialect.driver, sorted(set(statements)))
print(__import__("sqlalchemy").__version__)
